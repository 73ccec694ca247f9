import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { channels, createMemoryBus } from "@t2v/common/channels";
import { GenerateJobSchema, type GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import {
  type Denoised,
  type GenerationStarted,
  type WorkerEvent,
  WorkerEventSchema,
} from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import type { Preview } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import type { GenerateHooks, GenerationSpec } from "@t2v/model";
import type { GeneratorEngine } from "../adapters/generator-engine.js";
import { createGenerateVideo } from "./generate-video.js";

const log = createLogger("inference-test", "silent");
const STEPS = 4;

/** A generator that "denoises" in 4 steps, offering a preview on the steps its hooks ask for. */
function fakeGenerator(seen: { specs: GenerationSpec[]; hooks: GenerateHooks[] }) {
  const generator: Pick<GeneratorEngine, "info" | "generate"> = {
    info: { name: "wan-tiny", version: "1.2.0", defaultSteps: 8, executionProvider: "cpu" },
    async generate(spec, hooks = {}) {
      seen.specs.push(spec);
      seen.hooks.push(hooks);
      await new Promise((r) => setTimeout(r, 30)); // the text encoder
      const total = spec.steps ?? 8;
      for (let step = 1; step <= total; step++) {
        await new Promise((r) => setTimeout(r, 5));
        hooks.onStep?.({ step, totalSteps: total, stepSeconds: 0.005, expert: "high" });
        if (hooks.previewEvery && step % hooks.previewEvery === 0)
          hooks.onPreview?.({
            step,
            totalSteps: total,
            width: 8,
            height: 4,
            rgb: new Uint8Array(8 * 4 * 3).fill(step),
          });
      }
      const latents = { dims: [1, 1, 1, 1], data: new Float32Array(1) };
      return { kind: "done", latents, denoiseSeconds: 0.05, startStep: 0, stepsRun: total };
    },
  };
  return generator;
}

async function run(spec: Partial<Omit<JobSpec, "$typeName">>) {
  const bus = createMemoryBus();
  const ch = channels(bus);
  const seen = { specs: [] as GenerationSpec[], hooks: [] as GenerateHooks[] };
  const events: WorkerEvent["event"][] = [];
  const previews: Array<[Preview, number]> = [];
  const sub = ch.previews.subscribe("t1", (p, attempt) => previews.push([p, attempt]));
  const generateVideo = createGenerateVideo({
    generator: fakeGenerator(seen),
    latents: { put: async () => ({ size: 1, digest: "d" }) },
    decodeJobs: { publish: async () => undefined },
    publishEvent: async (taskId, attempt, event) => {
      events.push(create(WorkerEventSchema, { taskId, attempt, event }).event);
    },
    sampler: { guidanceScale: 4, shift: 5, expertBoundary: 875 },
    previews: ch.previews,
  });
  const job = create(GenerateJobSchema, {
    taskId: "t1",
    attempt: 2,
    spec: { prompt: "p", negativePrompt: "n", width: 832, height: 480, numFrames: 17, frameRate: 16, seed: 7, ...spec },
  });
  await generateVideo({
    job,
    spec: job.spec ?? assert.fail("no spec"),
    log,
    signal: new AbortController().signal,
    working: () => undefined,
    stillHeld: async () => undefined,
    onModelFree: () => undefined,
  });
  await new Promise((r) => setImmediate(r));
  sub.unsubscribe();
  return { seen, events, previews };
}

type Body = WorkerEvent["event"];

function startedOf(events: Body[]): GenerationStarted {
  for (const e of events) if (e.case === "started") return e.value;
  return assert.fail("no started event");
}

function denoisedOf(events: Body[]): Denoised {
  for (const e of events) if (e.case === "denoised") return e.value;
  return assert.fail("no denoised event");
}

describe("generateVideo: what a task's debugging needs from the worker", () => {
  it("reports the effective sampler settings and the text-encoding time", async () => {
    const { events } = await run({ steps: STEPS });
    const started = startedOf(events);
    assert.deepEqual(
      {
        modelName: started.modelName,
        modelVersion: started.modelVersion,
        totalSteps: started.totalSteps,
        guidanceScale: started.guidanceScale,
        shift: started.shift,
        expertBoundary: started.expertBoundary,
      },
      { modelName: "wan-tiny", modelVersion: "1.2.0", totalSteps: 4, guidanceScale: 4, shift: 5, expertBoundary: 875 },
    );
    const denoised = denoisedOf(events);
    assert.ok(denoised.textEncodeSeconds >= 0.02, `text encode ${denoised.textEncodeSeconds}`);
    assert.ok(denoised.denoiseSeconds > 0);
  });

  it("runs a quarter of the default steps for a draft", async () => {
    const { seen, events } = await run({ draft: true });
    assert.equal(seen.specs[0]?.steps, 2, "8 / 4");
    assert.equal(startedOf(events).totalSteps, 2);
  });

  it("publishes previews every preview_every_steps steps, for its attempt", async () => {
    const { seen, previews } = await run({ steps: STEPS, previewEverySteps: 2 });
    assert.equal(seen.hooks[0]?.previewEvery, 2);
    assert.deepEqual(
      previews.map(([p, attempt]) => [p.step, p.mimeType, p.width, p.height, attempt]),
      [
        [2, "image/jpeg", 8, 4, 2],
        [4, "image/jpeg", 8, 4, 2],
      ],
    );
  });

  it("asks the model for no previews, and sends none, when the task did not ask", async () => {
    const { seen, previews } = await run({ steps: STEPS });
    assert.equal(seen.hooks[0]?.previewEvery, undefined);
    assert.equal(seen.hooks[0]?.onPreview, undefined);
    assert.deepEqual(previews, []);
  });
});
