import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type Bus,
  type Channels,
  channels,
  createMemoryBus,
  createOutageBus,
  latentObjectName,
  type MemoryBus,
  openMediaStores,
  videoObjectName,
} from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import { DecodeJobSchema, GenerationSpecSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type WorkerEvent, WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { pollUntil, recordedProbes } from "@t2v/common/testing/probes";
import { encodeLatents } from "@t2v/model";
import type { DecoderEngine } from "./adapters/supervised-decoder.js";
import { type EncoderDeps, start } from "./app.js";
import { encoderConfig } from "./config.js";

// The encoder's fault handling on the in-memory bus with a fake decoder engine and the real
// ffmpeg: NATS unreachable for a while, and a decoder engine thread that dies.

const log = createLogger("encoder-test", "silent");
const retry = { firstDelayMs: 5, maxDelayMs: 20 };
// A small clip, so ffmpeg is quick: 64x64, 8 frames in 4 chunks.
const SPEC = { prompt: "p", negativePrompt: "", width: 64, height: 64, numFrames: 8, frameRate: 8, seed: 1 };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "encoder-faults-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

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

interface FakeDecoder extends DecoderEngine {
  decoded: number;
  /** Resolves when a decode finished. */
  done: Promise<void>;
}

/** Grey frames, two per chunk; with `dies`, the call rejects as @t2v/model does when its engine thread crashes. */
function fakeDecoder(opts: { dies?: boolean; onChunk?: (i: number) => void } = {}): FakeDecoder {
  let markDone = (): void => undefined;
  const done = new Promise<void>((r) => {
    markDone = r;
  });
  const self: FakeDecoder = {
    decoded: 0,
    done,
    async decode(_latents, target, onFrames) {
      if (opts.dies) throw new Error("engine worker crashed: out of memory");
      for (let i = 0; i < target.numFrames / 2; i++) {
        opts.onChunk?.(i);
        await delay(40);
        await onFrames(new Uint8Array(target.width * target.height * 3 * 2).fill(128), 2);
      }
      self.decoded++;
      markDone();
    },
  };
  return self;
}

async function startEncoder(bus: Bus, deps: Partial<EncoderDeps> & Pick<EncoderDeps, "decoder">) {
  const config = readConfig(encoderConfig, { MODEL_DIR: dir, WORKER_ID: "e1", X264_PRESET: "ultrafast" });
  return start(config, { bus, log, ffmpegPath: "ffmpeg", tmpDir: dir, retry, ...deps });
}

async function submit(bus: MemoryBus, ch: Channels): Promise<string> {
  const taskId = newTaskId();
  const task = { taskId, status: TaskStatus.PROCESSING, attempt: 1 };
  await ch.tasks.create(create(TaskRecordSchema, { task, tenantId: "t" }));
  const latentObject = latentObjectName(taskId, 1);
  const { latents } = await openMediaStores(bus, { videoTtlHours: 1 });
  await latents.put(latentObject, encodeLatents({ dims: [1, 1, 1, 2], data: new Float32Array(2) }));
  const spec = create(GenerationSpecSchema, SPEC);
  await ch.decodeJobs.publish(create(DecodeJobSchema, { taskId, attempt: 1, spec, latentObject }));
  return taskId;
}

const events = (bus: MemoryBus): WorkerEvent[] =>
  bus.streamMessages("T2V_EVENTS").map((m) => fromBinary(WorkerEventSchema, m.data));
const cases = (bus: MemoryBus): string[] => events(bus).map((e) => e.event.case ?? "");

const until = (what: string, ok: () => boolean, ms = 10_000): Promise<void> => pollUntil(what, ok, ms);

test("NATS down mid-encode: no crash; the video and videoReady land once it is back, the job acked only after", async () => {
  const memory = createMemoryBus();
  const outage = createOutageBus(memory);
  const decoder = fakeDecoder({ onChunk: (i) => i === 1 && outage.setDown(true) });
  const app = await startEncoder(outage.bus, { decoder });
  try {
    const taskId = await submit(memory, channels(memory));
    await decoder.done;
    // ffmpeg finishes; the video put and the events are retried meanwhile (however slow the machine).
    await until("writes were tried and refused", () => outage.failedWrites() > 1);
    assert.equal(memory.streamMessages("T2V_DECODE").length, 1, "not acked while its results are not out");
    assert.ok(!cases(memory).includes("videoReady"));

    outage.setDown(false);
    await until("the job is acked", () => memory.streamMessages("T2V_DECODE").length === 0);
    assert.equal(cases(memory).at(-1), "videoReady", cases(memory).join(", "));
    assert.ok(!cases(memory).includes("failed"));
    const { videos } = await openMediaStores(memory, { videoTtlHours: 1 });
    assert.ok((await videos.info(videoObjectName(taskId)))?.size, "the MP4 is stored");
  } finally {
    // A failed assertion above must not leave the outage on: stop would wait out every retry.
    outage.setDown(false);
    await app.stop();
  }
});

test("decoder engine death: the job is handed back without a failed event, the engine restarts once, work goes on", async () => {
  const memory = createMemoryBus();
  const fresh = fakeDecoder();
  const health = recordedProbes();
  let restarts = 0;
  const app = await startEncoder(memory, {
    decoder: fakeDecoder({ dies: true }),
    probes: health,
    restartDecoder: async () => {
      restarts++;
      await delay(30);
      return fresh;
    },
    onFatal: () => assert.fail("not fatal"),
  });
  try {
    await submit(memory, channels(memory));
    await until("videoReady", () => cases(memory).includes("videoReady"));
    await until("the job is acked", () => memory.streamMessages("T2V_DECODE").length === 0);
    assert.ok(!cases(memory).includes("failed"), cases(memory).join(", "));
    assert.equal(fresh.decoded, 1, "the handed-back job ran on the restarted engine");
    assert.equal(restarts, 1);
    assert.deepEqual(health.state, { ready: true, live: true });
  } finally {
    await app.stop();
  }
});

test("decoder engine death and a failed restart: the job handed back, not live, onFatal", async () => {
  const memory = createMemoryBus();
  const health = recordedProbes();
  let fatal: unknown;
  const app = await startEncoder(memory, {
    decoder: fakeDecoder({ dies: true }),
    probes: health,
    restartDecoder: async () => {
      throw new Error("model package unreadable");
    },
    onFatal: (err) => {
      fatal = err;
    },
  });
  try {
    const ch = channels(memory);
    const taskId = await submit(memory, ch);
    await until("onFatal", () => fatal !== undefined);
    assert.match(String(fatal), /model package unreadable/);
    assert.deepEqual(health.state, { ready: false, live: false });
    assert.ok(!cases(memory).includes("failed"), "no failed event");
    const back = await (await ch.decodeJobs.inbox()).next(500);
    assert.equal(back?.message.taskId, taskId, "the job is back for another encoder");
  } finally {
    await app.stop();
  }
});
