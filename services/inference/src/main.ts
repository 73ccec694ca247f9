import "./instrumentation.js";
import { hostname } from "node:os";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  Buckets,
  Consumers,
  connectNats,
  createLogger,
  createWorkerEventPublisher,
  ensureInferenceConsumer,
  onShutdown,
  openBucket,
  openStores,
  readConfigOrExit,
  Streams,
  workerGroup,
} from "@t2v/common";
import { startGenerator } from "@t2v/model";
import { watchCancellations } from "./cancellations.js";
import { inferenceConfig } from "./config.js";

import { createGenerateHandler } from "./generate-handler.js";
import { startHeartbeat } from "./heartbeat.js";
import { createInferenceMetrics } from "./inference-metrics.js";
import { telemetry } from "./instrumentation.js";
import { createJobPreparer } from "./prepare-job.js";
import { workLoop } from "./work-loop.js";

const config = readConfigOrExit("inference", inferenceConfig);
const workerId = config.workerId || `${hostname()}-${process.pid}`;
const log = createLogger("inference", config.logLevel).child({ worker_id: workerId });

// Load and warm the model before taking work: it is never reloaded per task.
const generator = await startGenerator({
  modelDir: config.modelDir,
  executionProviders: config.executionProviders,
  ...(config.intraOpThreads > 0 ? { intraOpThreads: config.intraOpThreads } : {}),
});
log.info({ model: generator.info.name, provider: generator.info.executionProvider }, "model loaded");

const nc = await connectNats(config.natsUrl, `inference-${workerId}`, log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
const js = jetstream(nc);
const stop = new AbortController();
const group = workerGroup(config.pools);
await ensureInferenceConsumer(await jetstreamManager(nc), group);
let busyTask = "";
const heartbeat = startHeartbeat(
  await openBucket(nc, Buckets.workers),
  {
    workerId,
    group,
    pools: config.pools,
    model: `${generator.info.name}@${generator.info.version}`,
    executionProvider: generator.info.executionProvider,
  },
  () => busyTask,
  log,
);

const handle = createGenerateHandler({
  tasks: stores.tasks,
  latents: stores.latents,
  js,
  generator,
  cancellations: watchCancellations(nc),
  publishEvent: createWorkerEventPublisher(js, workerId),
  log,
  shutdown: stop.signal,
  metrics: createInferenceMetrics(generator.info.executionProvider),
  onBusy: (taskId) => {
    busyTask = taskId;
    void heartbeat.beat();
  },
});

// One task denoising at a time per worker, from its group's consumer (the
// scheduler decides which pool's work comes next); the next job is held and
// its text encoded meanwhile.
const consumer = await js.consumers.get(Streams.generate, Consumers.inference(group));
const loop = workLoop(consumer, handle, {
  signal: stop.signal,
  log,
  pipeline: config.pipelineNextTask === "1",
  prepare: createJobPreparer(generator, log),
});
log.info({ pools: config.pools, group, pipeline: config.pipelineNextTask === "1" }, "inference worker running");

onShutdown(log, async () => {
  stop.abort(new Error("shutdown"));
  await loop;
  await heartbeat.stop();
  await generator.close();
  await nc.drain();
  await telemetry.shutdown();
});
