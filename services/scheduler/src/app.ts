import {
  type Bus,
  CHECKPOINTS_STORE,
  channels,
  consumeEach,
  DAY_MS,
  GENERATE_STREAM,
  LATENTS_STORE,
  lazy,
  leaderLease,
  resultCache,
  resultExpiry,
} from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { openResultStore } from "@t2v/common/s3-store";
import { retentionPolicyOf } from "@t2v/common/task";
import { replicaIdOf, type SchedulerConfig } from "./config.js";
import { type LeaderSnapshot, STANDBY_SNAPSHOT } from "./domain/leader-snapshot.js";
import { holdEstimateWatches } from "./entry-points/estimate-watch-subscription.js";
import { serveLeaderTerm } from "./entry-points/serve-leader-term.js";
import { createSchedulerMetrics } from "./metrics.js";
import { createExpiryIndexer, createResultSweeper } from "./use-cases/expire-results.js";
import { runLeadership } from "./use-cases/leadership.js";
import { type LeaderTermDeps, runLeaderTerm } from "./use-cases/run-leader-term.js";

export interface SchedulerDeps {
  bus: Bus;
  log: Logger;
  /** This replica's name in the leader lease; REPLICA_ID, else host-pid. */
  replicaId?: string;
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /** In [0, 1), for retry jitter; Math.random by default. */
  random?: () => number;
}

export interface SchedulerApp {
  /** True while this replica holds the leader lease and runs a term. */
  isLeader(): boolean;
  /** Ends the term (if leading) once its consumers have handed back their last message, then releases the lease. */
  stop(): Promise<void>;
}

/**
 * The scheduler on any Bus: every replica competes for the leader lease, and
 * the one holding it runs leader terms (dispatch, event application,
 * reconciler, sweep, estimates and their pushes, queue stats). Standbys only
 * wait, holding the gateways' watched sets.
 */
export async function start(config: SchedulerConfig, deps: SchedulerDeps): Promise<SchedulerApp> {
  const now = deps.clock ?? Date.now;
  const replica = deps.replicaId || replicaIdOf(config);
  const { log } = deps;
  // The scheduler owns TASK_RECORD_RETENTION_DAYS: it sets the task buckets' TTL now, also on existing ones.
  const ch = channels(deps.bus, { tasks: { retentionMs: config.taskRecordRetentionDays * DAY_MS } });
  await ch.tasks.open();
  // The same store the encoder writes to (RESULT_STORE), so a cached video is looked up where it lives.
  const results = await openResultStore(config, deps.bus);
  const { videos } = results;
  // Opened on first use: only an expiring paused task needs it.
  const checkpoints = lazy(() => deps.bus.blobs(CHECKPOINTS_STORE));
  const latents = lazy(() => deps.bus.blobs(LATENTS_STORE));
  const cache = resultCache(deps.bus, config.cacheTtlHours);
  const lease = leaderLease(deps.bus, replica, config.leaseMs);
  let snapshot: LeaderSnapshot = STANDBY_SNAPSHOT;
  const metrics = createSchedulerMetrics(() => snapshot);
  let leading = false;
  const stopping = new AbortController();
  // Held by standbys too: a new leader pushes the gateways' estimates without waiting for their next heartbeat.
  const watches = holdEstimateWatches(ch.estimatePushes, now);

  const term: LeaderTermDeps = {
    config,
    channels: ch,
    cache,
    videos,
    checkpoints: { delete: async (name) => (await checkpoints()).delete(name) },
    latents: { delete: async (name) => (await latents()).delete(name) },
    duplicateWindowMs: GENERATE_STREAM.duplicateWindowMs,
    metrics,
    log,
    now,
    random: deps.random ?? Math.random,
    publishSnapshot: (s) => {
      snapshot = s;
    },
    listen: (leaderTerm, signal) =>
      serveLeaderTerm(
        {
          channels: ch,
          log,
          defaultRunSeconds: config.defaultRunSeconds,
          watches,
          estimateIntervalMs: config.queueEstimateIntervalMs,
          now,
        },
        leaderTerm,
        signal,
      ),
  };
  const running = runLeadership(
    {
      lease,
      leaseMs: config.leaseMs,
      log,
      now,
      onLeading: (on) => {
        leading = on;
      },
      runTerm: (signal, fence) => runLeaderTerm(term, signal, fence),
    },
    stopping.signal,
  );

  // Retention: every replica indexes completed tasks' expiry (a shared consumer splits them); the leader
  // deletes the results that are due.
  const expiry = resultExpiry(deps.bus);
  const retention = retentionPolicyOf(config.videoTtlHours, results.kind);
  const indexing = consumeEach(() => expiry.changes(), createExpiryIndexer({ expiry, retention, now }), {
    signal: stopping.signal,
    log,
    name: "t2v.notify.retention",
  });
  const sweepResults = createResultSweeper({
    expiry,
    tasks: ch.tasks,
    deleteResult: (id) => results.deleteTask(id),
    videoBytes: ch.videoBytes,
    retention,
    log,
    now,
  });
  let sweeping: Promise<void> | undefined;
  const sweeper = setInterval(() => {
    if (!leading || sweeping) return;
    sweeping = sweepResults()
      .then(
        () => undefined,
        (err: unknown) => log.warn({ err }, "result sweep failed"),
      )
      .finally(() => {
        sweeping = undefined;
      });
  }, config.sweepIntervalMs);

  return {
    isLeader: () => leading,
    async stop() {
      stopping.abort();
      clearInterval(sweeper);
      watches.unsubscribe();
      await Promise.all([indexing, sweeping]);
      await running;
      await lease.release();
    },
  };
}
