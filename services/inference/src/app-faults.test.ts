import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import {
  type Channels,
  channels,
  createMemoryBus,
  createOutageBus,
  latentObjectName,
  openMediaStores,
} from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import { GenerateJobSchema, GenerationSpecSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { pollUntil, recordedProbes } from "@t2v/common/testing/probes";
import { GenerationCancelledError } from "@t2v/model";
import type { GeneratorEngine } from "./adapters/generator-engine.js";
import { type InferenceDeps, start } from "./app.js";
import { inferenceConfig } from "./config.js";
import { eventCases as cases, eventsUntil } from "./testing/jobs.js";

// The worker's fault handling on the in-memory bus with a fake engine (no model): NATS
// unreachable for a while, and an engine thread that dies.

const log = createLogger("inference-test", "silent");
const config = readConfig(inferenceConfig, { MODEL_DIR: "/nowhere", WORKER_ID: "w1" });
const retry = { firstDelayMs: 5, maxDelayMs: 20 };

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
  assert.deepEqual(unhandled, [], "no unhandled rejection");
});

interface FakeEngine extends GeneratorEngine {
  generated: string[];
  /** Resolves when a generate returned its latents. */
  done: Promise<void>;
}

/** Steps of `stepMs`; with `dieAfter`, the call rejects as @t2v/model does when its engine thread exits. */
function fakeEngine(opts: { stepMs?: number; dieAfter?: number } = {}): FakeEngine {
  const generated: string[] = [];
  let markDone = (): void => undefined;
  const done = new Promise<void>((r) => {
    markDone = r;
  });
  return {
    info: { name: "fake", version: "1", defaultSteps: 4, executionProvider: "cpu" },
    generated,
    done,
    prepare: async () => undefined,
    async generate(spec, hooks) {
      const steps = spec.steps ?? 4;
      for (let step = 1; step <= steps; step++) {
        if (opts.dieAfter !== undefined && step > opts.dieAfter) throw new Error("engine worker exited (code 1)");
        if (hooks?.signal?.aborted) throw new GenerationCancelledError("cancelled");
        await delay(opts.stepMs ?? 5);
        hooks?.onStep?.({ step, totalSteps: steps, stepSeconds: 0.005, expert: "high_noise" });
      }
      generated.push(spec.prompt);
      markDone();
      const latents = { dims: [1, 1, 1, 2], data: new Float32Array(2) };
      return { kind: "done", latents, denoiseSeconds: 0.005 * steps, startStep: 0, stepsRun: steps };
    },
  };
}

async function submit(ch: Channels, steps: number, prompt = "a paper boat"): Promise<string> {
  const taskId = newTaskId();
  const task = { taskId, status: TaskStatus.QUEUED, attempt: 1 };
  await ch.tasks.create(create(TaskRecordSchema, { task, tenantId: "t", pool: "standard" }));
  const spec = create(GenerationSpecSchema, {
    prompt,
    negativePrompt: "",
    width: 832,
    height: 480,
    numFrames: 17,
    frameRate: 16,
    seed: 7,
    steps,
  });
  await ch.generateJobs.publish(create(GenerateJobSchema, { taskId, attempt: 1, spec }), "standard");
  return taskId;
}

const isEnd = (e: WorkerEvent): boolean => e.event.case === "denoised" || e.event.case === "failed";

const until = (what: string, ok: () => boolean, ms = 5_000): Promise<void> => pollUntil(what, ok, ms);

test("NATS down mid-denoise: no crash, the steps coalesce, events and DecodeJob arrive once it is back, ack only after", async () => {
  const memory = createMemoryBus();
  const outage = createOutageBus(memory);
  const ch = channels(memory);
  const engine = fakeEngine({ stepMs: 5 });
  const app = await start(config, { bus: outage.bus, log, generator: engine, retry });
  try {
    const steps = 40;
    const taskId = await submit(ch, steps);
    const first = await eventsUntil(ch, (e) => e.event.case === "step", 5_000);
    outage.setDown(true);
    await engine.done; // the denoise finished while NATS is unreachable
    // Retries go on meanwhile (however slow the machine).
    await until("writes were tried and refused", () => outage.failedWrites() > 1);
    assert.equal(memory.streamMessages("T2V_GENERATE").length, 1, "not acked while its results are not out");
    assert.equal(memory.streamMessages("T2V_DECODE").length, 0);

    outage.setDown(false);
    const rest = await eventsUntil(ch, isEnd, 5_000);
    const events = [...first, ...rest];
    assert.equal(cases(events).at(-1), "denoised");
    assert.ok(!cases(events).includes("failed"));
    const stepEvents = events.filter((e) => e.event.case === "step");
    const lastStep = stepEvents.at(-1)?.event;
    assert.equal(lastStep?.case === "step" ? lastStep.value.step : 0, steps, "the latest step is reported");
    assert.ok(stepEvents.length < steps, `steps queued during the outage coalesced: ${stepEvents.length} of ${steps}`);
    assert.ok(events.every((e) => e.taskId === taskId));
    const decode = await (await ch.decodeJobs.inbox()).next(1_000);
    assert.equal(decode?.message.taskId, taskId, "the DecodeJob arrived");
    await until("the job is acked", () => memory.streamMessages("T2V_GENERATE").length === 0);

    // New work is taken afterwards.
    const next = await submit(ch, 3, "a second boat");
    const after = await eventsUntil(ch, isEnd, 5_000);
    assert.deepEqual(cases(after), ["started", "step", "step", "step", "denoised"]);
    assert.ok(after.every((e) => e.taskId === next));
  } finally {
    // A failed assertion above must not leave the outage on: stop would wait out every retry.
    outage.setDown(false);
    await app.stop();
  }
});

test("NATS down while the latents are stored: the write is retried, nothing is lost", async () => {
  const memory = createMemoryBus();
  const outage = createOutageBus(memory);
  const ch = channels(memory);
  const engine = fakeEngine({ stepMs: 1 });
  // Down from the first step on: started may be out, everything after waits.
  let steps = 0;
  const generator: GeneratorEngine = {
    ...engine,
    generate: (spec, hooks) =>
      engine.generate(spec, {
        ...hooks,
        onStep: (r) => {
          if (++steps === 1) outage.setDown(true);
          hooks?.onStep?.(r);
        },
      }),
  };
  const app = await start(config, { bus: outage.bus, log, generator, retry });
  try {
    const taskId = await submit(ch, 3);
    await engine.done;
    await until("writes were tried and refused", () => outage.failedWrites() > 1);
    assert.equal(memory.streamMessages("T2V_GENERATE").length, 1);
    outage.setDown(false);
    await eventsUntil(ch, isEnd, 5_000);
    const { latents } = await openMediaStores(memory, { videoTtlHours: 1 });
    assert.ok(await latents.info(latentObjectName(taskId, 1)), "the latents were stored");
    await until("the job is acked", () => memory.streamMessages("T2V_GENERATE").length === 0);
  } finally {
    outage.setDown(false);
    await app.stop();
  }
});

test("engine thread death: the job is handed back without a failed event, the engine restarts once, work goes on", async () => {
  const memory = createMemoryBus();
  const ch = channels(memory);
  const dying = fakeEngine({ dieAfter: 2 });
  const fresh = fakeEngine();
  const health = recordedProbes();
  let restarts = 0;
  const deps: InferenceDeps = {
    bus: memory,
    log,
    generator: dying,
    retry,
    probes: health,
    restartGenerator: async () => {
      restarts++;
      await delay(30);
      return fresh;
    },
    onFatal: () => assert.fail("not fatal"),
  };
  const app = await start(config, deps);
  try {
    const taskId = await submit(ch, 4, "first");
    const events = await eventsUntil(ch, isEnd, 5_000);
    assert.ok(!cases(events).includes("failed"), `no failed event: ${cases(events).join(", ")}`);
    assert.equal(cases(events).at(-1), "denoised");
    assert.deepEqual(fresh.generated, ["first"], "the handed-back job ran on the restarted engine");
    assert.ok(
      events.every((e) => e.taskId === taskId && e.attempt === 1),
      "the same attempt: no retry spent",
    );
    assert.equal(restarts, 1);
    assert.deepEqual(health.state, { ready: true, live: true });

    await submit(ch, 2, "second");
    assert.equal(cases(await eventsUntil(ch, isEnd, 5_000)).at(-1), "denoised");
    assert.deepEqual(fresh.generated, ["first", "second"]);
  } finally {
    await app.stop();
  }
});

test("engine death and a failed restart: every job handed back, not live, onFatal", async () => {
  const memory = createMemoryBus();
  const ch = channels(memory);
  const health = recordedProbes();
  let fatal: unknown;
  const app = await start(config, {
    bus: memory,
    log,
    generator: fakeEngine({ dieAfter: 2, stepMs: 20 }),
    retry,
    probes: health,
    restartGenerator: async () => {
      throw new Error("CUDA device lost");
    },
    onFatal: (err) => {
      fatal = err;
    },
  });
  try {
    await submit(ch, 4, "running");
    await submit(ch, 4, "held"); // pipelined: held while the first one runs
    await until("onFatal", () => fatal !== undefined);
    assert.match(String(fatal), /CUDA device lost/);
    assert.deepEqual(health.state, { ready: false, live: false });
    assert.ok(!cases(await eventsUntil(ch, () => false, 100)).includes("failed"), "no failed event");
    // Both jobs are back in the consumer at once for another worker.
    const inbox = await ch.generateJobs.inbox("standard");
    const back = [(await inbox.next(500))?.message.spec?.prompt, (await inbox.next(500))?.message.spec?.prompt];
    assert.deepEqual(back.sort(), ["held", "running"]);
  } finally {
    await app.stop();
  }
});
