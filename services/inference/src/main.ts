import { hostname } from "node:os";
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
import { startGenerator } from "@t2v/model";
import { watchCancellations } from "./cancellations.js";
import { inferenceConfig } from "./config.js";

import { createGenerateHandler } from "./generate-handler.js";

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

const handle = createGenerateHandler({
  tasks: stores.tasks,
  latents: stores.latents,
  js,
  generator,
  cancellations: watchCancellations(nc),
  publishEvent: createWorkerEventPublisher(js, workerId),
  log,
  shutdown: stop.signal,
});

// One task at a time per worker. Pools are polled in priority order.
const consumers = await Promise.all(
  config.pools.map((p) => js.consumers.get(Streams.generate, Consumers.inference(p))),
);
const loop = pullLoop(consumers, handle, { signal: stop.signal, log });
log.info({ pools: config.pools }, "inference worker running");

onShutdown(log, async () => {
  stop.abort(new Error("shutdown"));
  await loop;
  await generator.close();
  await nc.drain();
});
