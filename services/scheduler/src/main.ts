import { jetstream } from "@nats-io/jetstream";
import {
  Consumers,
  connectNats,
  createLogger,
  onShutdown,
  openStores,
  pullLoop,
  readConfigOrExit,
  Streams,
} from "@t2v/common";
import { schedulerConfig } from "./config.js";
import { createEventHandler } from "./entry-points/event-handler.js";
import { createSubmitHandler } from "./entry-points/submit-handler.js";

const config = readConfigOrExit("scheduler", schedulerConfig);
const log = createLogger("scheduler", config.logLevel);
const nc = await connectNats(config.natsUrl, "scheduler", log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
const js = jetstream(nc);
const stop = new AbortController();

const submit = createSubmitHandler({ tasks: stores.tasks, js, log });
const events = createEventHandler({
  tasks: stores.tasks,
  js,
  log,
  retry: { maxAttempts: config.maxAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
  random: Math.random,
});

const loops = Promise.all([
  pullLoop(await js.consumers.get(Streams.submit, Consumers.schedulerSubmit), submit, { signal: stop.signal, log }),
  pullLoop(await js.consumers.get(Streams.events, Consumers.schedulerEvents), events, { signal: stop.signal, log }),
]);
log.info("scheduler running");

onShutdown(log, async () => {
  stop.abort();
  await loops;
  await nc.drain();
});
