import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { context } from "@opentelemetry/api";
import {
  type BlobStore,
  type PublishWorkerEvent,
  posterObjectName,
  videoObjectName,
  type WorkerEventBody,
} from "@t2v/common/channels";
import type { DecodeJob, GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import { createOutbox, type RetryOptions, retryWithBackoff } from "@t2v/common/process";
import { Attr, inSpan } from "@t2v/common/telemetry";
import { type Decoder, decodeLatents } from "@t2v/model";
import { extractPoster } from "../adapters/extract-poster.js";
import { startFfmpeg } from "../adapters/start-ffmpeg.js";
import { videoBody } from "../adapters/video-body.js";
import type { EncodeSettings } from "../domain/ffmpeg-args.js";
import type { EncoderMetrics } from "../metrics.js";

export interface EncodeVideoDeps {
  latents: Pick<BlobStore, "get" | "delete">;
  videos: Pick<BlobStore, "put">;
  decoder: Pick<Decoder, "decode">;
  publishEvent: PublishWorkerEvent;
  ffmpegPath: string;
  settings: EncodeSettings;
  /** Where the MP4 and the poster are written before they are stored. */
  tmpDir: string;
  metrics?: EncoderMetrics;
  /** Backoff of every read and write through an outage (tests shorten it); see `retryWithBackoff`. */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
}

/** One attempt to encode, as the consumer hands it over. */
export interface EncodeRun {
  job: DecodeJob;
  spec: JobSpec;
  log: Logger;
  /** Fires on shutdown: decoding stops after the current chunk. */
  signal: AbortSignal;
  /** Restarts the job's ack wait (after every decoded chunk). */
  working(): void;
  /** Rejects once another encoder took the attempt over: called before the video is written. */
  stillHeld(): Promise<void>;
}

const PROGRESS_EVERY_MS = 250;

/**
 * Decodes latents to rgb24 frames chunk by chunk and pipes them straight into
 * ffmpeg, so decoding and H.264 encoding overlap and memory stays bounded;
 * then stores the MP4 and its poster, reports the video and deletes the latents.
 */
export function createEncodeVideo(deps: EncodeVideoDeps) {
  return async function encodeVideo(run: EncodeRun): Promise<void> {
    const { job, spec, log } = run;
    const { taskId, attempt } = job;
    const outFile = join(deps.tmpDir, `${taskId}.${attempt}.mp4`);
    const posterFile = join(deps.tmpDir, `${taskId}.${attempt}.jpg`);
    const target = { width: spec.width, height: spec.height, numFrames: spec.numFrames, frameRate: spec.frameRate };
    const sink = startFfmpeg(deps.ffmpegPath, target, deps.settings, outFile);
    const attrs = { [Attr.taskId]: taskId, [Attr.attempt]: attempt };
    const retry = { ...deps.retry, log };
    // Decoder callbacks arrive from its worker thread, outside this task's trace.
    const ctx = context.active();
    // Events leave in order and wait out an outage; progress waiting behind progress is replaced.
    const events = createOutbox<WorkerEventBody>((e) => deps.publishEvent(taskId, attempt, e, ctx), {
      ...retry,
      what: "publish worker event",
      replaces: (last, next) => last?.case === "encodingProgress" && next?.case === "encodingProgress",
    });
    try {
      const blob = await inSpan("objectstore.get", { ...attrs, [Attr.object]: job.latentObject }, () =>
        retryWithBackoff(() => deps.latents.get(job.latentObject), { ...retry, what: "read the latents" }),
      );
      if (!blob) throw new Error(`latents ${job.latentObject} are missing from the latents store`);
      const t0 = performance.now();
      let frames = 0;
      let reportedAt = 0;
      await inSpan("encoder.vae_decode", { ...attrs, [Attr.frames]: target.numFrames }, () =>
        deps.decoder.decode(decodeLatents(blob), target, async (rgb24, count) => {
          if (run.signal.aborted) throw new Error("shutting down");
          run.working();
          frames += count;
          await sink.write(rgb24);
          // Progress for watchers, at most a few times a second.
          if (performance.now() - reportedAt > PROGRESS_EVERY_MS) {
            reportedAt = performance.now();
            events.push({ case: "encodingProgress", value: { framesDone: frames, totalFrames: target.numFrames } });
          }
        }),
      );
      const decodeSeconds = (performance.now() - t0) / 1000;
      await inSpan("encoder.h264_encode", attrs, () => sink.finish());
      const encodeSeconds = (performance.now() - t0) / 1000 - decodeSeconds;
      // Storing the MP4 and its poster: the task's "upload" timing.
      const uploadStarted = performance.now();
      const videoObject = videoObjectName(taskId);
      // An encoder stopped past its lease lost the attempt: the video is the one that took over's to write.
      await run.stillHeld();
      // Each try reads the file afresh: a failed put consumed the last stream. A rejected put that
      // outlasts the retries fails the attempt, which the scheduler retries: never a task without its video.
      const info = await inSpan("objectstore.put", { ...attrs, [Attr.object]: videoObject }, () =>
        retryWithBackoff(async () => deps.videos.put(videoObject, await videoBody(outFile)), {
          ...retry,
          what: "store the video",
        }),
      );
      const poster = await storePoster(deps, outFile, posterFile, posterObjectName(taskId), retry).catch(
        (err: unknown) => {
          log.warn({ err }, "no poster image");
          return { name: "", size: 0 };
        },
      );
      events.push({
        case: "videoReady",
        value: {
          videoObject,
          posterObject: poster.name,
          sizeBytes: BigInt(info.size),
          posterSizeBytes: BigInt(poster.size),
          frames,
          decodeSeconds,
          encodeSeconds,
          uploadSeconds: (performance.now() - uploadStarted) / 1000,
        },
      });
      // The job is acked (by the caller) only once videoReady is out.
      await events.flush();
      await deps.latents.delete(job.latentObject).catch(() => undefined);
      deps.metrics?.decode.record(decodeSeconds);
      deps.metrics?.encode.record(encodeSeconds);
      deps.metrics?.videoBytes.record(info.size);
      log.info({ frames, bytes: info.size, decode_s: decodeSeconds.toFixed(2) }, "video ready");
    } catch (err) {
      sink.abort();
      await events.flush().catch(() => undefined);
      throw err;
    } finally {
      await rm(outFile, { force: true });
      await rm(posterFile, { force: true });
    }
  };
}

export type EncodeVideo = ReturnType<typeof createEncodeVideo>;

/** The first frame as a JPEG next to the video, for previews; its name and size (the tenant's byte cap counts it). */
async function storePoster(
  deps: EncodeVideoDeps,
  videoFile: string,
  jpegFile: string,
  name: string,
  retry: Omit<RetryOptions, "what">,
): Promise<{ name: string; size: number }> {
  await extractPoster(deps.ffmpegPath, videoFile, jpegFile);
  const jpeg = await readFile(jpegFile);
  await inSpan("objectstore.put", { [Attr.object]: name }, () =>
    retryWithBackoff(() => deps.videos.put(name, jpeg), { ...retry, what: "store the poster" }),
  );
  return { name, size: jpeg.length };
}
