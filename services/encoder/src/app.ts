import { type Bus, channels, consumeEach, openMediaStores } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import type { Decoder } from "@t2v/model";
import type { EncoderConfig } from "./config.js";
import { createDecodeConsumer } from "./entry-points/decode-consumer.js";
import { createEncoderMetrics } from "./metrics.js";
import { createEncodeVideo } from "./use-cases/encode-video.js";

export interface EncoderDeps {
  bus: Bus;
  log: Logger;
  /** Loaded by the caller, which also closes it. */
  decoder: Pick<Decoder, "decode">;
  /** ffmpeg with libx264. */
  ffmpegPath: string;
  /** A folder of this process for the files being encoded; the caller removes it. */
  tmpDir: string;
}

export interface EncoderApp {
  /** Hands the job being encoded back, and stops taking more. */
  stop(): Promise<void>;
}

/** The encoder on a bus: one DecodeJob at a time, latents -> VAE decode -> ffmpeg -> videos store. */
export async function start(config: EncoderConfig, deps: EncoderDeps): Promise<EncoderApp> {
  const { bus, log } = deps;
  const ch = channels(bus);
  const stopping = new AbortController();
  const metrics = createEncoderMetrics();
  const { latents, videos } = await openMediaStores(bus, { videoTtlHours: config.videoTtlHours });
  const publishEvent = ch.workerEvents.publisher(config.workerId);
  const encodeVideo = createEncodeVideo({
    latents,
    videos,
    decoder: deps.decoder,
    publishEvent,
    ffmpegPath: deps.ffmpegPath,
    settings: { preset: config.x264Preset, crf: config.x264Crf, threads: config.x264Threads },
    tmpDir: deps.tmpDir,
    metrics,
  });
  const handle = createDecodeConsumer({
    tasks: ch.tasks,
    latents,
    publishEvent,
    encodeVideo,
    shutdown: stopping.signal,
    log,
    metrics,
  });
  const loop = consumeEach(() => ch.decodeJobs.inbox(), handle, {
    signal: stopping.signal,
    log,
    name: "t2v.job.decode",
  });
  log.info("encoder running");
  return {
    async stop() {
      stopping.abort(new Error("shutdown"));
      await loop;
    },
  };
}
