import { hostname } from "node:os";
import { fromBinary } from "@bufbuild/protobuf";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  Buckets,
  Consumers,
  connectNats,
  createLogger,
  onShutdown,
  openBucket,
  openStores,
  pullLoop,
  readConfigOrExit,
  Streams,
  Subjects,
} from "@t2v/common";
import { CancelRequestedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { createLeaderLease } from "./adapters/leader-lease.js";
import { createRecordWriter } from "./adapters/record-writer.js";
import { createDeadLetters, createResultCache, createStatsWriter } from "./adapters/side-records.js";
import { readWorkerGroups, type WorkerGroupView } from "./adapters/worker-registry.js";
import { schedulerConfig } from "./config.js";
import { createDispatcher } from "./dispatcher.js";
import { serveEstimates } from "./entry-points/estimates-responder.js";
import { createEventApplier, createEventHandler } from "./entry-points/event-handler.js";
import { createSubmitHandler } from "./entry-points/submit-handler.js";
import { rebuildState } from "./rebuild.js";
import { createReconciler } from "./reconciler.js";
import { SchedulerState } from "./state.js";

const config = readConfigOrExit("scheduler", schedulerConfig);
const replica = config.replicaId || `${hostname()}-${process.pid}`;
const log = createLogger("scheduler", config.logLevel).child({ replica });
const nc = await connectNats(config.natsUrl, `scheduler-${replica}`, log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const [workersKv, leaseKv, deadKv, cacheKv, statsKv] = await Promise.all([
  openBucket(nc, Buckets.workers),
  openBucket(nc, Buckets.scheduler),
  openBucket(nc, Buckets.deadLetters),
  openBucket(nc, Buckets.resultCache, { ttl: config.cacheTtlHours * 3_600_000 }),
  openBucket(nc, Buckets.queueStats),
]);
const stop = new AbortController();
const timers: NodeJS.Timeout[] = [];
const every = (ms: number, fn: () => Promise<void>): void => {
  let busy = false;
  timers.push(
    setInterval(() => {
      if (busy) return;
      busy = true;
      fn()
        .catch((err: unknown) => log.error({ err }, "periodic job failed"))
        .finally(() => {
          busy = false;
        });
    }, ms),
  );
};

// Standby until this replica holds the lease: only the leader dispatches.
const lease = createLeaderLease(leaseKv, replica, config.leaseMs);
while (!stop.signal.aborted && !(await lease.tryAcquire())) {
  await new Promise((r) => setTimeout(r, config.leaseMs / 3));
}
log.info("leader: this replica dispatches");

const state = new SchedulerState();
const write = createRecordWriter({ tasks: stores.tasks, js, log });
let groups: WorkerGroupView[] = [];
const refreshGroups = async (): Promise<void> => {
  groups = await readWorkerGroups(workersKv, config.workerFreshMs);
};
await refreshGroups();

const dispatcher = createDispatcher({
  tasks: stores.tasks,
  state,
  write,
  js,
  jsm,
  log,
  ageing: { batchPromoteAfterMs: config.batchPromoteAfterMs },
  prefetch: config.prefetch,
  groups: () => groups,
});
const kick = (): void => void dispatcher.round();
const cache = createResultCache(cacheKv);
const applyEvent = createEventApplier({
  tasks: stores.tasks,
  state,
  write,
  cache,
  deadLetter: createDeadLetters(deadKv),
  retry: { maxAttempts: config.maxAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
  model: config.modelId,
  random: Math.random,
  log,
  kick,
});
const reconcile = createReconciler({
  tasks: stores.tasks,
  state,
  write,
  nc,
  applyEvent,
  policy: { stallTimeoutMs: config.stallTimeoutMs, dispatchTimeoutMs: config.dispatchTimeoutMs },
  log,
});
const writeStats = createStatsWriter(statsKv);

await rebuildState(stores.tasks, state, dispatcher, log);

// A cancelled queued task leaves the queue at once.
nc.subscribe(Subjects.cancel, {
  callback: (err, msg) => {
    if (err) return;
    try {
      state.forget(fromBinary(CancelRequestedSchema, msg.data).taskId);
    } catch {
      // Malformed broadcasts cancel nothing.
    }
  },
});
serveEstimates(nc, state, () => groups, config.defaultRunSeconds);

every(config.leaseMs / 3, async () => {
  if (!(await lease.renew())) {
    // Another replica leads now; restart as a standby rather than dispatch twice.
    log.error("leader lease lost; exiting");
    process.exit(1);
  }
});
every(1_000, async () => {
  await refreshGroups();
  await dispatcher.round();
});
every(1_000, async () => {
  for (const tenant of [...state.dirtyTenants]) {
    state.dirtyTenants.delete(tenant);
    const c = state.counts(tenant);
    await writeStats(tenant, c.queued, c.running);
  }
});
every(config.reconcileIntervalMs, () => reconcile());

const loops = Promise.all([
  pullLoop(
    await js.consumers.get(Streams.submit, Consumers.schedulerSubmit),
    createSubmitHandler({
      tasks: stores.tasks,
      state,
      cache,
      videos: stores.videos,
      write,
      model: config.modelId,
      log,
      kick,
    }),
    { signal: stop.signal, log },
  ),
  pullLoop(await js.consumers.get(Streams.events, Consumers.schedulerEvents), createEventHandler(applyEvent), {
    signal: stop.signal,
    log,
  }),
]);
kick();
log.info("scheduler running");

onShutdown(log, async () => {
  stop.abort();
  for (const t of timers) clearInterval(t);
  await loops;
  await lease.release();
  await nc.drain();
});
