import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { type Bus, channels, connectNats, createNatsBus, generateConsumer } from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import { GenerateJobSchema, GenerationSpecSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import type { GeneratorEngine } from "./adapters/generator-engine.js";
import { start } from "./app.js";
import { inferenceConfig } from "./config.js";

// A real nats-server, killed while a denoise runs and started again on the same port and store
// seconds later: the worker lives through it and the task's results arrive. Not part of
// `npm run test:unit` (a *.nats.test.js file): `node --test services/inference/dist/app-outage.nats.test.js`.

const log = createLogger("inference-test", "silent");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function launchNats(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], {
    stdio: "ignore",
  });
  await delay(500);
  return child;
}

const killed = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

/** Steps of `stepMs`, then small latents. */
function fakeEngine(stepMs: number): GeneratorEngine & { done: Promise<void> } {
  let markDone = (): void => undefined;
  const done = new Promise<void>((r) => {
    markDone = r;
  });
  return {
    info: { name: "fake", version: "1", defaultSteps: 4, executionProvider: "cpu" },
    done,
    prepare: async () => undefined,
    async generate(spec, hooks) {
      const steps = spec.steps ?? 4;
      for (let step = 1; step <= steps; step++) {
        await delay(stepMs);
        hooks?.onStep?.({ step, totalSteps: steps, stepSeconds: stepMs / 1000, expert: "high_noise" });
      }
      markDone();
      const latents = { dims: [1, 1, 1, 2], data: new Float32Array(2) };
      return { kind: "done", latents, denoiseSeconds: (steps * stepMs) / 1000, startStep: 0, stepsRun: steps };
    },
  };
}

async function retrying<T>(what: string, fn: () => Promise<T>, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; ; await delay(200)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw new Error(`${what}: ${String(err)}`);
    }
  }
}

test("nats-server killed mid-denoise and back 5 s later: no exit, every result arrives, the job acked", async () => {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "t2v-outage-"));
  let nats = await launchNats(port, storeDir);
  const url = `nats://127.0.0.1:${port}`;
  const workerNc = await connectNats(url, "worker", log);
  const testNc = await connectNats(url, "test", log);
  let workerBus: Bus | undefined;
  const stopApp: (() => Promise<void>)[] = [];
  try {
    workerBus = await createNatsBus(workerNc);
    const testBus = await createNatsBus(testNc);
    const ch = channels(testBus);
    const engine = fakeEngine(50);
    const config = readConfig(inferenceConfig, { MODEL_DIR: "/nowhere", WORKER_ID: "w1" });
    const app = await start(config, { bus: workerBus, log, generator: engine });
    stopApp.push(() => app.stop());

    const taskId = newTaskId();
    const steps = 40; // 2 s of denoising
    await ch.tasks.create(
      create(TaskRecordSchema, { task: { taskId, status: TaskStatus.QUEUED, attempt: 1 }, tenantId: "t" }),
    );
    const spec = create(GenerationSpecSchema, {
      prompt: "p",
      negativePrompt: "",
      width: 832,
      height: 480,
      numFrames: 17,
      frameRate: 16,
      seed: 1,
      steps,
    });
    await ch.generateJobs.publish(create(GenerateJobSchema, { taskId, attempt: 1, spec }), "standard");
    const events = await ch.workerEvents.inbox();
    const seen: WorkerEvent[] = [];
    while (!seen.some((e) => e.event.case === "step")) {
      const d = await events.next(5_000);
      if (!d) assert.fail("no step event before the outage");
      d.ack();
      seen.push(d.message);
    }

    await killed(nats);
    await engine.done; // the denoise ends while NATS is gone
    await delay(3_000);
    nats = await launchNats(port, storeDir);

    const after = await ch.workerEvents.inbox();
    for (const end = Date.now() + 60_000; !seen.some((e) => e.event.case === "denoised"); ) {
      if (Date.now() > end) assert.fail(`no denoised event: ${seen.map((e) => e.event.case).join(", ")}`);
      const d = await after.next(2_000).catch(() => null);
      if (!d) continue;
      d.ack();
      seen.push(d.message);
    }
    assert.ok(!seen.some((e) => e.event.case === "failed"));
    const decode = await retrying("DecodeJob", async () => {
      const d = await (await ch.decodeJobs.inbox()).next(2_000);
      if (!d) throw new Error("none yet");
      return d;
    });
    assert.equal(decode.message.taskId, taskId);
    await retrying("the job is acked", async () => {
      if ((await testBus.backlog(generateConsumer("standard"))) !== 0) throw new Error("still pending");
    });
  } finally {
    for (const stop of stopApp) await stop();
    await workerBus?.close().catch(() => undefined);
    await testNc.drain().catch(() => undefined);
    await killed(nats);
    await rm(storeDir, { recursive: true, force: true });
  }
});
