import { type Bus, channels, claimHolder, consumeEach, openMediaStores } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { createEngineSupervisor, type RetryOptions } from "@t2v/common/process";
import { openResultStore } from "@t2v/common/s3-store";
import { type DecoderEngine, supervisedDecoder } from "./adapters/supervised-decoder.js";
import type { EncoderConfig } from "./config.js";
import { createDecodeConsumer } from "./entry-points/decode-consumer.js";
import { createEncoderMetrics } from "./metrics.js";
import { createEncodeVideo } from "./use-cases/encode-video.js";

export interface EncoderDeps {
  bus: Bus;
  log: Logger;
  /** Loaded by the caller, which also closes it. */
  decoder: DecoderEngine;
  /**
   * Loads a fresh decoder after the current one's thread died (main.ts closes the dead one; the
   * caller owns what it returns). Without it a lost engine is fatal at once.
   */
  restartDecoder?: () => Promise<DecoderEngine>;
  /** The ops port's probes (`telemetry` in main.ts): set not ready and not live when the engine is lost for good. */
  probes?: { setReady(ready: boolean): void; setLive(live: boolean): void };
  /** Called once the engine is lost for good and the job was handed back: main.ts exits non-zero. */
  onFatal?: (err: unknown) => void;
  /** Backoff of reads and writes through an outage (tests shorten it). */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
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
  let fatal: Promise<void> | undefined;
  const supervisor = createEngineSupervisor<DecoderEngine>({
    initial: deps.decoder,
    restart: deps.restartDecoder ?? (() => Promise.reject(new Error("no engine restart configured"))),
    log,
    onFatal: (err) => {
      deps.probes?.setReady(false);
      deps.probes?.setLive(false);
      stopping.abort(new Error("engine lost"));
      fatal ??= loop.then(() => deps.onFatal?.(err));
    },
  });
  const retry = deps.retry ? { retry: deps.retry } : {};
  const metrics = createEncoderMetrics();
  // Latents stay on JetStream; videos and posters go where RESULT_STORE says (JetStream or S3).
  const [{ latents }, { videos }] = await Promise.all([
    openMediaStores(bus, { videoTtlHours: config.videoTtlHours }),
    openResultStore(config, bus, { onUpload: (r) => log.info({ upload: r }, "result uploaded") }),
  ]);
  const publishEvent = ch.workerEvents.publisher(config.workerId);
  const encodeVideo = createEncodeVideo({
    latents,
    videos,
    decoder: supervisedDecoder(supervisor),
    publishEvent,
    ffmpegPath: deps.ffmpegPath,
    settings: { preset: config.x264Preset, crf: config.x264Crf, threads: config.x264Threads },
    tmpDir: deps.tmpDir,
    metrics,
    ...retry,
  });
  const handle = createDecodeConsumer({
    tasks: ch.tasks,
    claims: ch.attemptClaims,
    holder: claimHolder(config.workerId),
    latents,
    publishEvent,
    encodeVideo,
    shutdown: stopping.signal,
    log,
    metrics,
    engineReady: () => supervisor.ready(),
    ...retry,
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
      await fatal;
    },
  };
}
