import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import type { Checkpoint, GenerationSpec, Generator, Latents } from "../api-types.js";
import { CheckpointMismatchError, GenerationCancelledError } from "../errors.js";
import { generateLatents } from "../test-support/generate-latents.js";
import { buildTempModel } from "../test-support/temp-model.js";
import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint-codec.js";
import { checkpointKey, specHash } from "./checkpoint-key.js";
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

// The smallest clip the model accepts: one latent frame at the smallest resolution (~5 ms a step),
// so the property can run many resumes.
const tiny: GenerationSpec = {
  prompt: "a red kite over a beach",
  negativePrompt: "blurry",
  width: 832,
  height: 480,
  numFrames: 1,
  frameRate: 16,
  seed: 11,
  steps: 6,
};

interface Reference {
  latents: Latents;
  checkpoints: Map<number, Checkpoint>;
}

const references = new Map<number, Reference>();

/** The uninterrupted run for a step count, with a checkpoint after every step. */
async function reference(steps: number): Promise<Reference> {
  const known = references.get(steps);
  if (known !== undefined) return known;
  const checkpoints = new Map<number, Checkpoint>();
  const latents = await generateLatents(
    generator,
    { ...tiny, steps },
    { checkpointEvery: { steps: 1 }, onCheckpoint: (c) => void checkpoints.set(c.step, c) },
  );
  const r = { latents, checkpoints };
  references.set(steps, r);
  return r;
}

function sameBits(a: Latents, b: Latents): boolean {
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(
    Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
  );
}

test("checkpointing does not change the output, and a checkpoint comes after every step but the last", async () => {
  const plain = await generateLatents(generator, tiny);
  const ref = await reference(6);
  assert.ok(sameBits(plain, ref.latents));
  assert.deepEqual([...ref.checkpoints.keys()], [1, 2, 3, 4, 5]);
  const c = ref.checkpoints.get(3);
  assert.equal(c?.specHash, specHash(tiny, generator.info));
  assert.equal(c?.model, "wan-tiny");
  assert.equal(c?.totalSteps, 6);
  assert.ok((c?.denoiseSeconds ?? 0) > 0);
  assert.ok((ref.checkpoints.get(5)?.denoiseSeconds ?? 0) > (c?.denoiseSeconds ?? 0));
});

test("property: resuming from the checkpoint after any step k gives bit-identical latents", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .integer({ min: 2, max: 6 })
        .chain((steps) => fc.tuple(fc.constant(steps), fc.integer({ min: 1, max: steps - 1 }))),
      async ([steps, k]) => {
        const ref = await reference(steps);
        const stored = ref.checkpoints.get(k);
        assert.ok(stored !== undefined, `a checkpoint after step ${k}`);
        // Through the codec, as the inference worker stores it.
        const from = decodeCheckpoint(encodeCheckpoint(stored));
        const later = new Map<number, Checkpoint>();
        const r = await generator.generate(
          { ...tiny, steps },
          { resumeFrom: from, checkpointEvery: { steps: 1 }, onCheckpoint: (c) => void later.set(c.step, c) },
        );
        assert.equal(r.kind, "done");
        if (r.kind !== "done") return;
        assert.ok(sameBits(r.latents, ref.latents), `resumed after step ${k} of ${steps}`);
        assert.equal(r.startStep, k);
        assert.equal(r.stepsRun, steps - k);
        // The resumed run's own checkpoints are the uninterrupted run's, so chains of resumes hold too.
        for (const [step, c] of later) {
          const original = ref.checkpoints.get(step);
          assert.ok(original !== undefined && sameBits(c.latents, original.latents), `checkpoint ${step} matches`);
        }
      },
    ),
    { numRuns: 15 },
  );
});

test("preempt yields a checkpoint at a step boundary; chained resumes are bit-identical, also on a fresh worker", async () => {
  const ref = await reference(6);
  const preemptAfter = async (g: Generator, step: number, from?: Checkpoint): Promise<Checkpoint> => {
    const preempt = new AbortController();
    const r = await g.generate(tiny, {
      preempt: preempt.signal,
      ...(from !== undefined ? { resumeFrom: from } : {}),
      onStep: (s) => {
        if (s.step === step) preempt.abort();
      },
    });
    assert.equal(r.kind, "yielded");
    if (r.kind !== "yielded") throw new Error("not yielded");
    // The step already running when the preempt arrived may complete.
    assert.ok(r.checkpoint.step >= step && r.checkpoint.step <= step + 1, `yielded at ${r.checkpoint.step}`);
    assert.equal(r.stepsRun, r.checkpoint.step - (from?.step ?? 0));
    assert.ok(r.denoiseSeconds > 0);
    const same = ref.checkpoints.get(r.checkpoint.step);
    assert.ok(same !== undefined && sameBits(r.checkpoint.latents, same.latents));
    return decodeCheckpoint(encodeCheckpoint(r.checkpoint));
  };
  const first = await preemptAfter(generator, 1);
  const second = await preemptAfter(generator, first.step + 1, first);
  assert.ok(second.denoiseSeconds > first.denoiseSeconds, "checkpoint seconds add up over runs");
  const fresh = await startGenerator({ modelDir: model.dir, executionProviders: ["cpu"] });
  try {
    const done = await generateLatents(fresh, tiny, { resumeFrom: second });
    assert.ok(sameBits(done, ref.latents), "a new process recomputes text and schedule identically");
  } finally {
    await fresh.close();
  }
});

test("an already-preempted call yields at step 0 with the seeded noise, which resumes identically", async () => {
  const ref = await reference(6);
  const r = await generator.generate(tiny, { preempt: AbortSignal.abort() });
  assert.equal(r.kind, "yielded");
  if (r.kind !== "yielded") return;
  assert.equal(r.checkpoint.step, 0);
  assert.equal(r.stepsRun, 0);
  assert.ok(sameBits(await generateLatents(generator, tiny, { resumeFrom: r.checkpoint }), ref.latents));
  // Cancel wins over preempt.
  await assert.rejects(
    generator.generate(tiny, { preempt: AbortSignal.abort(), signal: AbortSignal.abort() }),
    GenerationCancelledError,
  );
});

test("a checkpoint of another spec, model or version, or of the wrong size, is refused", async () => {
  const ref = await reference(6);
  const c = ref.checkpoints.get(2);
  assert.ok(c !== undefined);
  const refuses = (spec: GenerationSpec, from: Checkpoint, why: RegExp): Promise<void> =>
    assert.rejects(generator.generate(spec, { resumeFrom: from }), (e: unknown) => {
      assert.ok(e instanceof CheckpointMismatchError, String(e));
      assert.match(e.message, why);
      return true;
    });
  await refuses({ ...tiny, seed: 12 }, c, /another generation spec/);
  await refuses({ ...tiny, prompt: "a blue kite" }, c, /another generation spec/);
  await refuses({ ...tiny, steps: 8 }, c, /another generation spec/);
  await refuses(tiny, { ...c, modelVersion: "0.2.0" }, /wan-tiny@0\.2\.0/);
  await refuses(tiny, { ...c, model: "wan-2.2-a14b" }, /made by wan-2\.2-a14b/);
  await refuses(
    tiny,
    { ...c, latents: { dims: [16, 2, 30, 52], data: new Float32Array(16 * 2 * 30 * 52) } },
    /latents/,
  );
  await refuses(tiny, { ...c, step: 7 }, /outside/);
  // The default step count is part of the effective spec: omitting steps equals asking for 10.
  const { steps: _omitted, ...noSteps } = tiny;
  assert.equal(specHash(noSteps, generator.info), specHash({ ...tiny, steps: 10 }, generator.info));
  assert.notEqual(checkpointKey(tiny, generator.info), checkpointKey(tiny, { ...generator.info, version: "0.2.0" }));
  assert.notEqual(checkpointKey(tiny, generator.info), checkpointKey({ ...tiny, seed: 12 }, generator.info));
});

test("time-based checkpoints, step cadence across resumes, and a slow store that never piles up", async () => {
  const every = new Map<number, Checkpoint>();
  await generateLatents(generator, tiny, {
    checkpointEvery: { seconds: 0 },
    onCheckpoint: (c) => void every.set(c.step, c),
  });
  assert.deepEqual([...every.keys()], [1, 2, 3, 4, 5]);
  const byTwo: number[] = [];
  const from = every.get(1);
  assert.ok(from !== undefined);
  await generateLatents(generator, tiny, {
    resumeFrom: from,
    checkpointEvery: { steps: 2 },
    onCheckpoint: (c) => void byTwo.push(c.step),
  });
  assert.deepEqual(byTwo, [2, 4], "cadence counts from step 0 of the clip, not of the resumed run");

  let inFlight = 0;
  const stored: number[] = [];
  await generateLatents(
    generator,
    { ...tiny, steps: 10 },
    {
      checkpointEvery: { steps: 1 },
      onCheckpoint: async (c) => {
        inFlight += 1;
        await new Promise((r) => setTimeout(r, 40));
        stored.push(c.step);
        inFlight -= 1;
      },
    },
  );
  assert.equal(inFlight, 0, "generate settles after the store in flight");
  assert.ok(stored.length >= 1 && stored.length <= 9);
  assert.deepEqual(
    stored,
    [...stored].sort((a, b) => a - b),
    "stored in order",
  );
});

test("a generator running another version of the model refuses this one's checkpoint", async () => {
  const ref = await reference(6);
  const c = ref.checkpoints.get(3);
  assert.ok(c !== undefined);
  const other = await buildTempModel();
  const path = join(other.dir, "manifest.json");
  const manifest = JSON.parse(await readFile(path, "utf8")) as { version: string };
  await writeFile(path, JSON.stringify({ ...manifest, version: "0.1.1" }));
  const next = await startGenerator({ modelDir: other.dir, executionProviders: ["cpu"] });
  try {
    assert.equal(next.info.version, "0.1.1");
    assert.notEqual(checkpointKey(tiny, next.info), checkpointKey(tiny, generator.info));
    await assert.rejects(
      next.generate(tiny, { resumeFrom: decodeCheckpoint(encodeCheckpoint(c)) }),
      CheckpointMismatchError,
    );
  } finally {
    await next.close();
    await other.cleanup();
  }
});
