import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { attr, DataType, GraphBuilder } from "../onnx/index.js";
import { generateLatents } from "../test-support/generate-latents.js";
import { buildTempModel } from "../test-support/temp-model.js";
import { startGenerator } from "./start-generator.js";

/**
 * A denoiser with the right signature that fails inside onnxruntime at run time
 * (Gather past the last latent frame), to check that a runtime error rejects
 * one call and leaves the worker serving.
 */
function failingDenoiser(): Uint8Array {
  const g = new GraphBuilder("failing_denoiser", 1);
  const latents = g.input("latents", DataType.FLOAT, ["batch", 16, "latent_frames", "latent_height", "latent_width"]);
  g.input("timestep", DataType.FLOAT, ["batch"]);
  g.input("text_embeddings", DataType.FLOAT, ["batch", "text_len", 64]);
  g.input("text_mask", DataType.INT64, ["batch", "text_len"]);
  // Frame index 1 exists in the 2-frame warm-up but not in a 1-frame request.
  const out = g.op("Gather", [latents, g.constI64([1])], { axis: attr.i(2) });
  g.output("velocity", out, DataType.FLOAT, ["batch", 16, "latent_frames", "latent_height", "latent_width"]);
  return g.toBytes();
}

test("an onnxruntime error in one call rejects that call only", async () => {
  const model = await buildTempModel();
  // Only the low-noise expert is broken: 1-step runs (timestep 1000) use the high-noise one.
  await writeFile(join(model.dir, "denoiser_low_noise.onnx"), failingDenoiser());
  const generator = await startGenerator({ modelDir: model.dir, executionProviders: ["cpu"] }).catch(async (err) => {
    await model.cleanup();
    throw err;
  });
  try {
    const spec = {
      prompt: "x",
      negativePrompt: "",
      width: 832,
      height: 480,
      numFrames: 1,
      frameRate: 16,
      seed: 1,
    };
    const ok = await generateLatents(generator, { ...spec, steps: 1 });
    await assert.rejects(generator.generate({ ...spec, steps: 4 }), /Gather|indices|out of/i);
    const again = await generateLatents(generator, { ...spec, steps: 1 });
    assert.deepEqual(again.data, ok.data);

    // Steps 1-2 run on the high-noise expert, step 3 fails. The checkpoint after step 2 was still
    // waiting behind a slow store of step 1's: it is delivered before the call rejects, so a
    // retry can resume from it.
    const stored: number[] = [];
    let rejected = false;
    await assert.rejects(
      generator.generate(
        { ...spec, steps: 4 },
        {
          checkpointEvery: { steps: 1 },
          onCheckpoint: async (c) => {
            await new Promise((r) => setTimeout(r, 150));
            assert.equal(rejected, false, "stored before generate rejected");
            stored.push(c.step);
          },
        },
      ),
      /Gather|indices|out of/i,
    );
    rejected = true;
    assert.deepEqual(stored, [1, 2]);
  } finally {
    await generator.close();
    await model.cleanup();
  }
});
