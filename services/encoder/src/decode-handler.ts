import { createReadStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import { fromBinary } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import type { ObjectStore } from "@nats-io/obj";
import { Attr, context, inSpan, isTerminal, type Logger, type PublishWorkerEvent, type TaskStore } from "@t2v/common";
import { DecodeJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { type Decoder, decodeLatents } from "@t2v/model";
import type { EncodeSettings } from "./domain/ffmpeg-args.js";
import type { EncoderMetrics } from "./encoder-metrics.js";
import { extractPoster, startFfmpeg } from "./ffmpeg-encoder.js";

export interface DecodeDeps {
  tasks: TaskStore;
  latents: ObjectStore;
  videos: ObjectStore;
  decoder: Decoder;
  publishEvent: PublishWorkerEvent;
  log: Logger;
  ffmpegPath: string;
  settings: EncodeSettings;
  tmpDir: string;
  shutdown: AbortSignal;
  metrics: EncoderMetrics;
}

const HEARTBEAT_MS = 10_000;
const PROGRESS_EVERY_MS = 250;

/**
 * Decodes latents to rgb24 frames chunk by chunk and pipes them straight into
 * ffmpeg, so decoding and H.264 encoding overlap and memory stays bounded;
 * then stores the MP4 and reports it.
 */
export function createDecodeHandler(deps: DecodeDeps) {
  return async function handleDecode(msg: JsMsg): Promise<void> {
    const job = fromBinary(DecodeJobSchema, msg.data);
    const { taskId, attempt, spec } = job;
    const log = deps.log.child({ task_id: taskId, attempt });
    const task = (await deps.tasks.get(taskId))?.record.task;
    if (!task || isTerminal(task.status) || task.attempt !== attempt || !spec) {
      log.info("skipping decode: task ended or superseded");
      await deps.latents.delete(job.latentObject).catch(() => undefined);
      msg.ack();
      return;
    }
    const outFile = join(deps.tmpDir, `${taskId}.${attempt}.mp4`);
    const posterFile = join(deps.tmpDir, `${taskId}.${attempt}.jpg`);
    const heartbeat = setInterval(() => msg.working(), HEARTBEAT_MS);
    const target = { width: spec.width, height: spec.height, numFrames: spec.numFrames, frameRate: spec.frameRate };
    const sink = startFfmpeg(deps.ffmpegPath, target, deps.settings, outFile);
    try {
      const attrs = { [Attr.taskId]: taskId, [Attr.attempt]: attempt };
      // Decoder callbacks arrive from its worker thread, outside this task's trace.
      const ctx = context.active();
      const blob = await inSpan("objectstore.get", { ...attrs, "t2v.object": job.latentObject }, () =>
        deps.latents.getBlob(job.latentObject),
      );
      if (!blob) throw new Error(`latents ${job.latentObject} are missing from the object store`);
      const t0 = performance.now();
      let frames = 0;
      let reportedAt = 0;
      const reports: Promise<unknown>[] = [];
      await inSpan("encoder.vae_decode", { ...attrs, [Attr.frames]: target.numFrames }, () =>
        deps.decoder.decode(decodeLatents(blob), target, async (rgb24, count) => {
          if (deps.shutdown.aborted) throw new Error("shutting down");
          msg.working();
          frames += count;
          await sink.write(rgb24);
          // Progress for watchers, at most a few times a second.
          if (performance.now() - reportedAt > PROGRESS_EVERY_MS) {
            reportedAt = performance.now();
            const value = { framesDone: frames, totalFrames: target.numFrames };
            reports.push(deps.publishEvent(taskId, attempt, { case: "encodingProgress", value }, ctx));
          }
        }),
      );
      await Promise.allSettled(reports);
      const decodeSeconds = (performance.now() - t0) / 1000;
      await inSpan("encoder.h264_encode", attrs, () => sink.finish());
      const encodeSeconds = (performance.now() - t0) / 1000 - decodeSeconds;
      const videoObject = `${taskId}.mp4`;
      const info = await inSpan("objectstore.put", { ...attrs, "t2v.object": videoObject }, () =>
        deps.videos.put(
          { name: videoObject, options: { max_chunk_size: 256 * 1024 } },
          Readable.toWeb(createReadStream(outFile)) as ReadableStream<Uint8Array>,
        ),
      );
      const posterObject = await storePoster(deps, outFile, posterFile, `${taskId}.jpg`).catch((err: unknown) => {
        log.warn({ err }, "no poster image");
        return "";
      });
      await deps.publishEvent(taskId, attempt, {
        case: "videoReady",
        value: { videoObject, posterObject, sizeBytes: BigInt(info.size), frames, decodeSeconds, encodeSeconds },
      });
      await deps.latents.delete(job.latentObject).catch(() => undefined);
      deps.metrics.decode.record(decodeSeconds);
      deps.metrics.encode.record(encodeSeconds);
      deps.metrics.videoBytes.record(info.size);
      log.info({ frames, bytes: info.size, decode_s: decodeSeconds.toFixed(2) }, "video ready");
      msg.ack();
    } catch (err) {
      sink.abort();
      if (deps.shutdown.aborted) {
        log.info("shutting down: handing the job back");
        msg.nak();
        return;
      }
      log.error({ err }, "decode or encode failed");
      deps.metrics.failures.add(1);
      await deps.publishEvent(taskId, attempt, {
        case: "failed",
        value: { message: err instanceof Error ? err.message : String(err), retryable: true, stage: "encode" },
      });
      msg.ack();
    } finally {
      clearInterval(heartbeat);
      await rm(outFile, { force: true });
      await rm(posterFile, { force: true });
    }
  };
}

/** The first frame as a JPEG next to the video, for previews. */
async function storePoster(deps: DecodeDeps, videoFile: string, jpegFile: string, name: string): Promise<string> {
  await extractPoster(deps.ffmpegPath, videoFile, jpegFile);
  await inSpan("objectstore.put", { "t2v.object": name }, async () =>
    deps.videos.putBlob({ name }, await readFile(jpegFile)),
  );
  return name;
}
