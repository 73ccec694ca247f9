import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Decoder, GenerationSpec, Generator, Latents, StepReport } from "../api-types.js";
import { GenerationCancelledError, ModelInputError, ModelPackageError } from "../errors.js";
import { generateLatents } from "../test-support/generate-latents.js";
import { buildTempModel } from "../test-support/temp-model.js";
import { startDecoder } from "./start-decoder.js";
import { startGenerator } from "./start-generator.js";

// One generator and one decoder for the whole file: starting engines is the slow part.
let model: { dir: string; cleanup: () => Promise<void> };
let generator: Generator;
let decoder: Decoder;

before(async () => {
  model = await buildTempModel();
  [generator, decoder] = await Promise.all([
    startGenerator({ modelDir: model.dir, executionProviders: ["cuda", "cpu"] }),
    startDecoder({ modelDir: model.dir, executionProviders: ["cpu"] }),
  ]);
});

after(async () => {
  await generator?.close();
  await decoder?.close();
  await model?.cleanup();
});

// Short clips keep the suite fast; the 3 s test below covers the full default size.
const small: GenerationSpec = {
  prompt: "a lighthouse at dusk",
  negativePrompt: "blurry",
  width: 832,
  height: 480,
  numFrames: 17,
  frameRate: 16,
  seed: 7,
  steps: 4,
};

async function decodeAll(
  l: Latents,
  spec: GenerationSpec,
): Promise<{ frames: number; bytes: Uint8Array; chunks: number }> {
  const parts: Uint8Array[] = [];
  let frames = 0;
  await decoder.decode(l, { width: spec.width, height: spec.height, numFrames: spec.numFrames }, (rgb, count) => {
    assert.equal(rgb.byteLength, count * spec.width * spec.height * 3);
    parts.push(rgb);
    frames += count;
  });
  return { frames, bytes: Buffer.concat(parts), chunks: parts.length };
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return s / a.length;
}

test("execution provider falls back to cpu when cuda is unavailable", () => {
  assert.ok(["cuda", "cpu"].includes(generator.info.executionProvider));
  assert.equal(decoder.info.executionProvider, "cpu");
  assert.equal(generator.info.name, "wan-tiny");
  assert.equal(generator.info.defaultSteps, 10);
});

test("same spec and seed give bit-identical latents and frames; other seed or prompt differ", async () => {
  const a = await generateLatents(generator, small);
  const b = await generateLatents(generator, small);
  assert.deepEqual(a.dims, [16, 5, 30, 52]);
  assert.deepEqual(a.data, b.data);
  const fa = await decodeAll(a, small);
  const fb = await decodeAll(b, small);
  assert.equal(fa.frames, 17);
  assert.ok(Buffer.from(fa.bytes).equals(Buffer.from(fb.bytes)), "frames are identical");

  const otherSeed = await generateLatents(generator, { ...small, seed: 8 });
  const otherPrompt = await generateLatents(generator, { ...small, prompt: "a desert road at noon" });
  assert.ok(meanAbsDiff(a.data, otherSeed.data) > 0.1, "another seed changes the latents");
  assert.ok(meanAbsDiff(a.data, otherPrompt.data) > 0.05, "another prompt changes the latents");
  const fSeed = await decodeAll(otherSeed, small);
  const fPrompt = await decodeAll(otherPrompt, small);
  assert.ok(meanAbsDiff(fa.bytes, fSeed.bytes) > 4, "another seed changes the pixels visibly");
  assert.ok(meanAbsDiff(fa.bytes, fPrompt.bytes) > 3, "another prompt changes the pixels visibly");
});

test("every step is reported, high-noise expert first and low-noise last", async () => {
  const reports: StepReport[] = [];
  await generateLatents(generator, { ...small, steps: 6 }, { onStep: (r) => reports.push(r) });
  assert.deepEqual(
    reports.map((r) => r.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(reports.every((r) => r.totalSteps === 6 && r.stepSeconds > 0));
  assert.equal(reports[0]?.expert, "high_noise");
  assert.equal(reports[5]?.expert, "low_noise");
});

test("generation is cancellable mid-way and the generator stays usable", async () => {
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    generator.generate(
      { ...small, steps: 10 },
      {
        signal: controller.signal,
        onStep: (r) => {
          seen.push(r.step);
          if (r.step === 2) controller.abort();
        },
      },
    ),
    GenerationCancelledError,
  );
  // Checked between steps: at most the step already running when abort arrived completes.
  assert.ok(seen.length >= 2 && seen.length <= 3, `steps seen after abort: ${seen.join(",")}`);
  const again = await generateLatents(generator, small);
  assert.equal(again.data.length, 16 * 5 * 30 * 52);
});

test("an already-aborted signal rejects at once", async () => {
  await assert.rejects(generator.generate(small, { signal: AbortSignal.abort() }), GenerationCancelledError);
});

test("unsupported specs are ModelInputError", async () => {
  await assert.rejects(generator.generate({ ...small, width: 640, height: 360 }), ModelInputError);
  await assert.rejects(generator.generate({ ...small, frameRate: 25 }), ModelInputError);
  await assert.rejects(generator.generate({ ...small, numFrames: 16 * 10 + 2 }), ModelInputError);
  await assert.rejects(generator.generate({ ...small, steps: 0 }), ModelInputError);
  await assert.rejects(generator.generate({ ...small, seed: -1 }), ModelInputError);
});

test("a 3 s 480p clip at 24 fps decodes to exactly 72 frames of 832x480 rgb24", async () => {
  const spec: GenerationSpec = { ...small, numFrames: 72, frameRate: 24, steps: undefined };
  const latents = await generateLatents(generator, spec);
  assert.deepEqual(latents.dims, [16, 19, 30, 52]);
  const out = await decodeAll(latents, spec);
  assert.equal(out.frames, 72);
  assert.equal(out.bytes.byteLength, 72 * 832 * 480 * 3);
  assert.ok(out.chunks > 1, "decoded in chunks");
  // Smooth, not noise: neighbouring pixels are close on average, and the clip changes over time.
  const row = 832 * 3;
  let neighbour = 0;
  for (let i = 0; i < row * 479; i += 3) neighbour += Math.abs((out.bytes[i] ?? 0) - (out.bytes[i + row] ?? 0));
  assert.ok(neighbour / (832 * 479) < 3, "frames are spatially smooth");
  const frame = 832 * 480 * 3;
  assert.ok(
    meanAbsDiff(out.bytes.subarray(0, frame), out.bytes.subarray(71 * frame)) > 4,
    "the clip changes over time",
  );
});

test("a failing onFrames rejects that decode only; the decoder keeps working", async () => {
  const latents = await generateLatents(generator, small);
  let calls = 0;
  await assert.rejects(
    decoder.decode(latents, { width: 832, height: 480, numFrames: 17 }, () => {
      calls += 1;
      throw new Error("ffmpeg went away");
    }),
    /ffmpeg went away/,
  );
  assert.equal(calls, 1, "no chunk is decoded after the consumer failed");
  const out = await decodeAll(latents, small);
  assert.equal(out.frames, 17);
});

test("onFrames is awaited before the next chunk is decoded", async () => {
  const latents = await generateLatents(generator, small);
  let inFlight = 0;
  let maxInFlight = 0;
  await decoder.decode(latents, { width: 832, height: 480, numFrames: 17 }, async () => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 30));
    inFlight -= 1;
  });
  assert.equal(maxInFlight, 1);
});

test("decode refuses a target that does not match the latents", async () => {
  const latents: Latents = { dims: [16, 2, 30, 52], data: new Float32Array(16 * 2 * 30 * 52) };
  await assert.rejects(
    decoder.decode(latents, { width: 1280, height: 720, numFrames: 5 }, () => {}),
    ModelInputError,
  );
  await assert.rejects(
    decoder.decode(latents, { width: 832, height: 480, numFrames: 6 }, () => {}),
    ModelInputError,
  );
});

test("starting on a directory without a package fails with ModelPackageError", async () => {
  await assert.rejects(
    startGenerator({ modelDir: "/nonexistent-model-dir", executionProviders: ["cpu"] }),
    ModelPackageError,
  );
});
