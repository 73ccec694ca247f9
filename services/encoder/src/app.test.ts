import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { create, fromBinary } from "@bufbuild/protobuf";
import {
  type Channels,
  channels,
  createMemoryBus,
  latentObjectName,
  type MediaStores,
  type MemoryBus,
  openMediaStores,
  posterObjectName,
  videoObjectName,
} from "@t2v/common/channels";
import { readConfig } from "@t2v/common/config";
import { DecodeJobSchema, GenerationSpecSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type WorkerEvent, WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { buildReferenceModel, type Decoder, encodeLatents, startDecoder } from "@t2v/model";
import { type EncoderApp, start } from "./app.js";
import { encoderConfig } from "./config.js";

// One model and one decoder for the file: starting the engine is the slow part.
let dir: string;
let decoder: Decoder;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "encoder-app-"));
  await buildReferenceModel(join(dir, "model"));
  decoder = await startDecoder({ modelDir: join(dir, "model"), executionProviders: ["cpu"] });
});

after(async () => {
  await decoder?.close();
  await rm(dir, { recursive: true, force: true });
});

const log = createLogger("encoder-test", "silent");
// wan-tiny's smallest clip: 480p, 17 frames at 16 fps; 16 latent channels, 4x temporal and 16x spatial compression.
const SPEC = { prompt: "p", negativePrompt: "", width: 832, height: 480, numFrames: 17, frameRate: 16, seed: 7 };
const LATENT_DIMS = [16, 5, 30, 52];

interface Encoder {
  bus: MemoryBus;
  ch: Channels;
  stores: MediaStores;
  app: EncoderApp;
}

async function startEncoder(ffmpegPath = "ffmpeg"): Promise<Encoder> {
  const bus = createMemoryBus();
  const config = readConfig(encoderConfig, { MODEL_DIR: dir, WORKER_ID: "e1", X264_PRESET: "ultrafast" });
  const app = await start(config, { bus, log, decoder, ffmpegPath, tmpDir: dir });
  return { bus, ch: channels(bus), stores: await openMediaStores(bus, { videoTtlHours: 1 }), app };
}

/** A task record at `status`, its latents in the store, and its DecodeJob. */
async function submit(e: Encoder, status: TaskStatus): Promise<string> {
  const taskId = newTaskId();
  await e.ch.tasks.create(create(TaskRecordSchema, { task: { taskId, status, attempt: 1 }, tenantId: "t" }));
  const count = LATENT_DIMS.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37));
  const latentObject = latentObjectName(taskId, 1);
  await e.stores.latents.put(latentObject, encodeLatents({ dims: LATENT_DIMS, data }));
  const spec = create(GenerationSpecSchema, SPEC);
  await e.ch.decodeJobs.publish(create(DecodeJobSchema, { taskId, attempt: 1, spec, latentObject }));
  return taskId;
}

/** Waits until the DecodeJob is acknowledged (every event of the attempt is out by then), and returns those events. */
async function eventsOnceAcked(bus: MemoryBus): Promise<WorkerEvent[]> {
  for (let i = 0; i < 1_000 && bus.streamMessages("T2V_DECODE").length > 0; i++) await delay(20);
  assert.equal(bus.streamMessages("T2V_DECODE").length, 0, "the job was acked");
  return bus.streamMessages("T2V_EVENTS").map((m) => fromBinary(WorkerEventSchema, m.data));
}

async function probe(file: string): Promise<{ width: number; height: number; nb_read_frames: string }> {
  const { stdout } = await promisify(execFile)("ffprobe", [
    ...["-v", "error", "-count_frames", "-select_streams", "v:0"],
    ...["-show_entries", "stream=width,height,nb_read_frames", "-of", "json", file],
  ]);
  const [stream] = (JSON.parse(stdout) as { streams: { width: number; height: number; nb_read_frames: string }[] })
    .streams;
  assert.ok(stream, "a video stream");
  return stream;
}

test("a DecodeJob: an MP4 of every frame and a poster in the videos store, progress and videoReady, latents deleted", async () => {
  const e = await startEncoder();
  try {
    const taskId = await submit(e, TaskStatus.PROCESSING);
    const events = await eventsOnceAcked(e.bus);
    const kinds = events.map((ev) => ev.event.case);
    assert.equal(kinds.at(-1), "videoReady", kinds.join(", "));
    assert.ok(kinds.slice(0, -1).length >= 1 && kinds.slice(0, -1).every((k) => k === "encodingProgress"));
    const ready = events.at(-1)?.event;
    assert.ok(ready?.case === "videoReady");
    assert.equal(ready.value.videoObject, videoObjectName(taskId));
    assert.equal(ready.value.posterObject, posterObjectName(taskId));
    assert.equal(ready.value.frames, 17);

    const video = await e.stores.videos.get(videoObjectName(taskId));
    assert.ok(video, "the MP4 is stored");
    assert.equal(BigInt(video.length), ready.value.sizeBytes);
    const file = join(dir, "probe.mp4");
    await writeFile(file, video);
    assert.deepEqual(await probe(file), { width: 832, height: 480, nb_read_frames: "17" });
    const poster = await e.stores.videos.get(posterObjectName(taskId));
    assert.deepEqual([...(poster ?? new Uint8Array()).subarray(0, 2)], [0xff, 0xd8], "the poster is a JPEG");
    assert.equal(BigInt(poster?.length ?? -1), ready.value.posterSizeBytes, "the poster's size is reported");
    assert.equal(await e.stores.latents.info(latentObjectName(taskId, 1)), null, "latents deleted");
  } finally {
    await e.app.stop();
  }
});

test("a DecodeJob of a task that already ended is acked and skipped, its latents deleted", async () => {
  const e = await startEncoder();
  try {
    const taskId = await submit(e, TaskStatus.CANCELLED);
    assert.deepEqual(await eventsOnceAcked(e.bus), [], "no event");
    assert.equal(await e.stores.latents.info(latentObjectName(taskId, 1)), null, "latents deleted");
  } finally {
    await e.app.stop();
  }
});

test("an encoding failure fails the attempt as retryable, at the encode stage", async () => {
  const e = await startEncoder("/nonexistent/ffmpeg");
  try {
    await submit(e, TaskStatus.PROCESSING);
    const failed = (await eventsOnceAcked(e.bus)).at(-1)?.event;
    assert.ok(failed?.case === "failed", failed?.case);
    assert.equal(failed.value.stage, "encode");
    assert.equal(failed.value.retryable, true);
    assert.match(failed.value.message, /ffmpeg/);
  } finally {
    await e.app.stop();
  }
});
