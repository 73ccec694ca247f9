import { createReadStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { context } from "@opentelemetry/api";
import { type BlobStore, type PublishWorkerEvent, posterObjectName, videoObjectName } from "@t2v/common/channels";
import type { DecodeJob, GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import { Attr, inSpan } from "@t2v/common/telemetry";
import { type Decoder, decodeLatents } from "@t2v/model";
import { extractPoster } from "../adapters/extract-poster.js";
import { startFfmpeg } from "../adapters/start-ffmpeg.js";
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
    try {
      // Decoder callbacks arrive from its worker thread, outside this task's trace.
      const ctx = context.active();
      const blob = await inSpan("objectstore.get", { ...attrs, [Attr.object]: job.latentObject }, () =>
        deps.latents.get(job.latentObject),
      );
      if (!blob) throw new Error(`latents ${job.latentObject} are missing from the latents store`);
      const t0 = performance.now();
      let frames = 0;
      let reportedAt = 0;
      const reports: Promise<unknown>[] = [];
      await inSpan("encoder.vae_decode", { ...attrs, [Attr.frames]: target.numFrames }, () =>
        deps.decoder.decode(decodeLatents(blob), target, async (rgb24, count) => {
          if (run.signal.aborted) throw new Error("shutting down");
          run.working();
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
      const videoObject = videoObjectName(taskId);
      const info = await inSpan("objectstore.put", { ...attrs, [Attr.object]: videoObject }, () =>
        deps.videos.put(videoObject, Readable.toWeb(createReadStream(outFile)) as ReadableStream<Uint8Array>),
      );
      const posterObject = await storePoster(deps, outFile, posterFile, posterObjectName(taskId)).catch(
        (err: unknown) => {
          log.warn({ err }, "no poster image");
          return "";
        },
      );
      await deps.publishEvent(taskId, attempt, {
        case: "videoReady",
        value: { videoObject, posterObject, sizeBytes: BigInt(info.size), frames, decodeSeconds, encodeSeconds },
      });
      await deps.latents.delete(job.latentObject).catch(() => undefined);
      deps.metrics?.decode.record(decodeSeconds);
      deps.metrics?.encode.record(encodeSeconds);
      deps.metrics?.videoBytes.record(info.size);
      log.info({ frames, bytes: info.size, decode_s: decodeSeconds.toFixed(2) }, "video ready");
    } catch (err) {
      sink.abort();
      throw err;
    } finally {
      await rm(outFile, { force: true });
      await rm(posterFile, { force: true });
    }
  };
}

export type EncodeVideo = ReturnType<typeof createEncodeVideo>;

/** The first frame as a JPEG next to the video, for previews. */
async function storePoster(deps: EncodeVideoDeps, videoFile: string, jpegFile: string, name: string): Promise<string> {
  await extractPoster(deps.ffmpegPath, videoFile, jpegFile);
  await inSpan("objectstore.put", { [Attr.object]: name }, async () => deps.videos.put(name, await readFile(jpegFile)));
  return name;
}
