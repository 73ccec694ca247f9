import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GenerationSpec, Generator } from "../api-types.js";
import { ModelInputError } from "../errors.js";
import { generateLatents } from "../test-support/generate-latents.js";
import { buildTempModel } from "../test-support/temp-model.js";
import { startGenerator } from "./start-generator.js";

let model: { dir: string; cleanup: () => Promise<void> };
let generator: Generator;

before(async () => {
  model = await buildTempModel();
  generator = await startGenerator({ modelDir: model.dir, executionProviders: ["cpu"] });
});

after(async () => {
  await generator?.close();
  await model?.cleanup();
});

const spec: GenerationSpec = {
  prompt: "一位穿红色连衣裙的女性在樱花树下漫步",
  negativePrompt: "blurry",
  width: 832,
  height: 480,
  numFrames: 17,
  frameRate: 16,
  seed: 3,
  steps: 4,
};

test("prepared embeddings give bit-identical latents", async () => {
  const fresh = await generateLatents(generator, { ...spec, prompt: "never prepared" });
  await generator.prepare({ prompt: "prepared first", negativePrompt: spec.negativePrompt });
  const prepared = await generateLatents(generator, { ...spec, prompt: "prepared first" });
  const again = await generateLatents(generator, { ...spec, prompt: "never prepared" });
  assert.deepEqual(again.data, fresh.data, "a cached pair reproduces the encoded one");
  assert.notDeepEqual(prepared.data, fresh.data);
  // Same texts, prepared or not: same latents.
  const reference = await startGenerator({ modelDir: model.dir, executionProviders: ["cpu"] });
  try {
    assert.deepEqual((await generateLatents(reference, { ...spec, prompt: "prepared first" })).data, prepared.data);
  } finally {
    await reference.close();
  }
});

test("a whole spec prepared (texts and noise) gives bit-identical latents, and a bad one is refused", async () => {
  const whole = { ...spec, prompt: "prepared whole", seed: 21 };
  const fresh = await generateLatents(generator, whole);
  await generator.prepare(whole);
  const prepared = await generateLatents(generator, whole);
  assert.deepEqual(prepared.data, fresh.data, "prepared noise is the seed's own");
  // Prepared for one seed, generated with another: that one's own noise.
  await generator.prepare({ ...whole, seed: 22 });
  assert.deepEqual((await generateLatents(generator, whole)).data, fresh.data);
  await assert.rejects(generator.prepare({ ...whole, width: 833 }), ModelInputError);
});

test("prepare is served between the steps of a running generate, not after it", async () => {
  const order: string[] = [];
  let preparing: Promise<void> | undefined;
  const running = generator
    .generate(
      { ...spec, steps: 8, seed: 9 },
      {
        onStep: (r) => {
          order.push(`step ${r.step}`);
          if (r.step === 1)
            preparing = generator.prepare({ prompt: "the next task", negativePrompt: "" }).then(() => {
              order.push("prepared");
            });
        },
      },
    )
    .then(() => order.push("generated"));
  await running;
  await preparing;
  const at = order.indexOf("prepared");
  assert.ok(at > 0 && at < order.indexOf("generated") - 1, `prepared mid-generation: ${order.join(", ")}`);
});

test("prepare rejects non-string texts and memoryUsage reports the worker", async () => {
  await assert.rejects(generator.prepare({ prompt: 1 as unknown as string, negativePrompt: "" }), ModelInputError);
  const usage = await generator.memoryUsage();
  assert.ok(usage.rss > usage.heapUsed && usage.heapUsed > 0);
});
