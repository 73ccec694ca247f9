import "./instrumentation.js";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import {
  Consumers,
  connectNats,
  createLogger,
  createWorkerEventPublisher,
  onShutdown,
  openStores,
  pullLoop,
  readConfigOrExit,
  Streams,
} from "@t2v/common";
import { startDecoder } from "@t2v/model";
import { encoderConfig } from "./config.js";
import { createDecodeHandler } from "./decode-handler.js";
import { createEncoderMetrics } from "./encoder-metrics.js";
import { telemetry } from "./instrumentation.js";

const config = readConfigOrExit("encoder", encoderConfig);
const workerId = config.workerId || `${hostname()}-${process.pid}`;
const log = createLogger("encoder", config.logLevel).child({ worker_id: workerId });

const decoder = await startDecoder({
  modelDir: config.modelDir,
  executionProviders: config.executionProviders,
  ...(config.intraOpThreads > 0 ? { intraOpThreads: config.intraOpThreads } : {}),
});
log.info({ model: decoder.info.name, provider: decoder.info.executionProvider }, "VAE decoder loaded");

const nc = await connectNats(config.natsUrl, `encoder-${workerId}`, log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
const js = jetstream(nc);
const tmpDir = await mkdtemp(join(tmpdir(), "t2v-encoder-"));
const stop = new AbortController();

const handle = createDecodeHandler({
  tasks: stores.tasks,
  latents: stores.latents,
  videos: stores.videos,
  decoder,
  publishEvent: createWorkerEventPublisher(js, workerId),
  log,
  ffmpegPath: config.ffmpegPath,
  settings: { preset: config.x264Preset, crf: config.x264Crf, threads: config.x264Threads },
  tmpDir,
  shutdown: stop.signal,
  metrics: createEncoderMetrics(),
});

const loop = pullLoop(await js.consumers.get(Streams.decode, Consumers.encoder), handle, {
  signal: stop.signal,
  log,
  name: "t2v.job.decode",
});
log.info("encoder running");

onShutdown(log, async () => {
  stop.abort(new Error("shutdown"));
  await loop;
  await decoder.close();
  await nc.drain();
  await rm(tmpDir, { recursive: true, force: true });
  await telemetry.shutdown();
});
