import "./instrumentation.js";
import { hostname } from "node:os";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import {
  Buckets,
  connectNats,
  createLogger,
  createUsageLedger,
  onShutdown,
  openBucket,
  openStores,
  readConfigOrExit,
} from "@t2v/common";
import { createLeaderLease } from "./adapters/leader-lease.js";
import type { WorkerGroupView } from "./adapters/worker-registry.js";
import { schedulerConfig } from "./config.js";
import { telemetry } from "./instrumentation.js";
import { leadTerm } from "./lead-term.js";
import { createSchedulerMetrics } from "./scheduler-metrics.js";
import type { SchedulerState } from "./state.js";

const config = readConfigOrExit("scheduler", schedulerConfig);
const replica = config.replicaId || `${hostname()}-${process.pid}`;
const log = createLogger("scheduler", config.logLevel).child({ replica });
const nc = await connectNats(config.natsUrl, `scheduler-${replica}`, log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
const [workers, lease, deadLetters, resultCache, queueStats, usage] = await Promise.all([
  openBucket(nc, Buckets.workers),
  openBucket(nc, Buckets.scheduler),
  openBucket(nc, Buckets.deadLetters),
  openBucket(nc, Buckets.resultCache, { ttl: config.cacheTtlHours * 3_600_000 }),
  openBucket(nc, Buckets.queueStats),
  openBucket(nc, Buckets.usage),
]);
let view: { state?: SchedulerState; groups: WorkerGroupView[] } = { groups: [] };
const metrics = createSchedulerMetrics(() => view);
const stop = new AbortController();
const leaderLease = createLeaderLease(lease, replica, config.leaseMs);
const deps = {
  config,
  nc,
  js: jetstream(nc),
  jsm: await jetstreamManager(nc),
  tasks: stores.tasks,
  videos: stores.videos,
  kv: { workers, deadLetters, resultCache, queueStats },
  usage: createUsageLedger(usage),
  metrics,
  log,
  publish: (v: typeof view) => {
    view = v;
  },
};

/**
 * Only the replica holding the lease dispatches. A replica that loses it
 * (another took over, or NATS was unreachable past the lease) ends its term
 * and stands by again, so two replicas never dispatch at once.
 */
async function lead(): Promise<void> {
  while (!stop.signal.aborted) {
    if (!(await leaderLease.tryAcquire())) {
      await new Promise((r) => setTimeout(r, config.leaseMs / 3));
      continue;
    }
    log.info("leader: this replica dispatches");
    const term = new AbortController();
    const endTerm = (): void => term.abort();
    stop.signal.addEventListener("abort", endTerm, { once: true });
    let renewedAt = Date.now();
    const renewal = setInterval(async () => {
      const result = await leaderLease.renew();
      if (result === "renewed") renewedAt = Date.now();
      if (!term.signal.aborted && (result === "lost" || Date.now() - renewedAt > config.leaseMs * 0.8)) {
        log.error({ result }, "leader lease lost: standing by");
        term.abort();
      }
    }, config.leaseMs / 4);
    try {
      await leadTerm(deps, term.signal);
    } catch (err) {
      log.error({ err }, "leader term failed");
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      clearInterval(renewal);
      stop.signal.removeEventListener("abort", endTerm);
    }
  }
}

const running = lead();
onShutdown(log, async () => {
  stop.abort();
  await running;
  await leaderLease.release();
  await nc.drain();
  await telemetry.shutdown();
});
