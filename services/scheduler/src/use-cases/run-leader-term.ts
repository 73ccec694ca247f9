import type { BlobStore, Channels, ResultCache } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { isTerminal } from "@t2v/common/task";
import type { SchedulerConfig } from "../config.js";
import { type LeaderSnapshot, STANDBY_SNAPSHOT } from "../domain/leader-snapshot.js";
import type { ReconcilePolicy } from "../domain/reconcile-task.js";
import { SchedulerState } from "../domain/state.js";
import type { WorkerGroup } from "../domain/worker-group.js";
import type { SchedulerMetrics } from "../metrics.js";
import { type ApplyEvent, createEventApplier } from "./apply-worker-event.js";
import { createDispatcher } from "./dispatcher.js";
import { createSubmissionHandler, type HandleSubmission } from "./handle-submission.js";
import type { TermFence } from "./leadership.js";
import { createPreempter } from "./preempt.js";
import { publishQueueStats } from "./publish-queue-stats.js";
import { rebuildState } from "./rebuild.js";
import { createReconciler } from "./reconcile.js";
import { createSweeper } from "./sweep.js";
import { createRecordWriter } from "./write-record.js";

/** A dispatched job not started after this long is published again (deduplicated). */
export const REPUBLISH_AFTER_MS = 15_000;
/** How often live worker groups are read, each time followed by a dispatch round. */
const WORKER_REFRESH_MS = 1_000;
/** How often changed per-tenant queue stats are written. */
const QUEUE_STATS_EVERY_MS = 1_000;

export type TermChannels = Pick<
  Channels,
  | "tasks"
  | "generateJobs"
  | "taskChanges"
  | "cancellations"
  | "taskControls"
  | "queueStats"
  | "workerRegistry"
  | "deadLetters"
  | "usage"
  | "videoBytes"
>;

/** What one term offers its entry points (consumers, subscriptions, responders). */
export interface LeaderTerm {
  readonly state: SchedulerState;
  groups(): readonly WorkerGroup[];
  handleSubmission: HandleSubmission;
  applyEvent: ApplyEvent;
  /** Asked before answering for the term (estimates): a stopped replica's view is stale. */
  fence: TermFence;
  /** Re-reads a task the gateway paused, resumed or reprioritised and files it where it now belongs. */
  refile(taskId: string): Promise<void>;
}

export interface LeaderTermDeps {
  config: SchedulerConfig;
  channels: TermChannels;
  cache: ResultCache;
  videos: Pick<BlobStore, "info">;
  /** Checkpoints of paused tasks, deleted when their pause runs out. */
  checkpoints: Pick<BlobStore, "delete">;
  /** Latents of ended tasks, deleted when they are settled. */
  latents: Pick<BlobStore, "delete">;
  /** How long the generate stream drops a re-published job as a duplicate. */
  duplicateWindowMs: number;
  metrics: SchedulerMetrics;
  log: Logger;
  now: () => number;
  random: () => number;
  /** Where metrics read the current term's state from. */
  publishSnapshot: (snapshot: LeaderSnapshot) => void;
  /** Starts the term's entry points; resolves once `signal` aborts and they have stopped. */
  listen: (term: LeaderTerm, signal: AbortSignal) => Promise<void>;
}

/**
 * One term as leader: rebuild the queues from the task records, then take
 * submissions and worker events, dispatch, reconcile, sweep and publish queue
 * stats until `signal` fires (lease lost, or shutdown). Everything the term
 * built is dropped with it; the next term rebuilds from the records.
 */
export async function runLeaderTerm(deps: LeaderTermDeps, signal: AbortSignal, fence: TermFence): Promise<void> {
  const { config, channels: ch, log, now } = deps;
  // Every write of the term asks the fence first: a replica stopped past its lease writes nothing.
  const generateJobs: TermChannels["generateJobs"] = {
    ...ch.generateJobs,
    publish: (job, group) => {
      fence.check();
      return ch.generateJobs.publish(job, group);
    },
  };
  const queueStats: Pick<TermChannels["queueStats"], "write"> = {
    write: (tenant, queued, running) => {
      fence.check();
      return ch.queueStats.write(tenant, queued, running);
    },
  };
  const state = new SchedulerState();
  let groups: readonly WorkerGroup[] = await ch.workerRegistry.liveGroups(config.workerFreshMs, now());
  deps.publishSnapshot({ state, groups });
  const write = createRecordWriter({
    tasks: ch.tasks,
    taskChanges: ch.taskChanges,
    usage: ch.usage,
    videoBytes: ch.videoBytes,
    latents: deps.latents,
    metrics: deps.metrics,
    log,
    fence,
  });
  const preempt = createPreempter({
    tasks: ch.tasks,
    state,
    write,
    taskControls: ch.taskControls,
    policy: { enabled: config.preemption, minRunMs: config.preemptMinRunSeconds * 1000 },
    metrics: deps.metrics,
    log,
    now,
  });
  const dispatcher = createDispatcher({
    tasks: ch.tasks,
    state,
    write,
    generateJobs,
    log,
    ageing: { batchPromoteAfterMs: config.batchPromoteAfterMs },
    prefetch: config.prefetch,
    groups: () => groups,
    metrics: deps.metrics,
    now,
    defaultRunSeconds: config.defaultRunSeconds,
    preempt,
  });
  const requestDispatch = (): void => {
    if (!signal.aborted) void dispatcher.round();
  };
  const applyEvent = createEventApplier({
    tasks: ch.tasks,
    state,
    write,
    cache: deps.cache,
    deadLetters: ch.deadLetters,
    usage: ch.usage,
    videoBytes: ch.videoBytes,
    latents: deps.latents,
    metrics: deps.metrics,
    retry: {
      maxAttempts: config.maxAttempts,
      baseDelayMs: config.retryBaseDelayMs,
      maxDelayMs: config.retryMaxDelayMs,
    },
    model: config.modelId,
    random: deps.random,
    now,
    log,
    requestDispatch,
  });
  const policy: ReconcilePolicy = {
    stallTimeoutMs: config.stallTimeoutMs,
    dispatchTimeoutMs: config.dispatchTimeoutMs,
    republishAfterMs: REPUBLISH_AFTER_MS,
    duplicateWindowMs: deps.duplicateWindowMs,
  };
  const reconcile = createReconciler({
    tasks: ch.tasks,
    state,
    write,
    cancellations: ch.cancellations,
    checkpoints: deps.checkpoints,
    applyEvent,
    republish: dispatcher.publishJob,
    policy,
    log,
    now,
  });
  const sweep = createSweeper({
    tasks: ch.tasks,
    usage: ch.usage,
    videoBytes: ch.videoBytes,
    latents: deps.latents,
    state,
    // One sweep interval, at most 10 s: a submission arrives within milliseconds.
    lostAfterMs: Math.min(10_000, config.sweepIntervalMs),
    log,
    now,
    requestDispatch,
  });
  const handleSubmission = createSubmissionHandler({
    tasks: ch.tasks,
    state,
    cache: deps.cache,
    videos: deps.videos,
    write,
    model: config.modelId,
    metrics: deps.metrics,
    log,
    now,
    requestDispatch,
  });

  const refile = async (taskId: string): Promise<void> => {
    const r = (await ch.tasks.get(taskId))?.record;
    if (!r?.task || isTerminal(r.task.status)) {
      state.forget(taskId);
      return;
    }
    state.track(r, now());
    requestDispatch();
  };

  await rebuildState({
    tasks: ch.tasks,
    usage: ch.usage,
    videoBytes: ch.videoBytes,
    latents: deps.latents,
    state,
    republish: dispatcher.publishJob,
    log,
    now,
    duplicateWindowMs: deps.duplicateWindowMs,
  });

  const timers = [
    every("refresh workers and dispatch", WORKER_REFRESH_MS, log, async () => {
      groups = await ch.workerRegistry.liveGroups(config.workerFreshMs, now());
      deps.publishSnapshot({ state, groups });
      await dispatcher.round();
    }),
    every("queue stats", QUEUE_STATS_EVERY_MS, log, () => publishQueueStats(state, queueStats)),
    every("reconcile", config.reconcileIntervalMs, log, () => reconcile()),
    every("sweep", config.sweepIntervalMs, log, () => sweep()),
  ];
  try {
    const listening = deps.listen({ state, groups: () => groups, handleSubmission, applyEvent, refile, fence }, signal);
    requestDispatch();
    log.info("scheduler running");
    await listening;
  } finally {
    for (const t of timers) clearInterval(t);
    deps.publishSnapshot(STANDBY_SNAPSHOT);
  }
}

/** A periodic job still running after this many of its intervals is reported (once per run). */
const STUCK_AFTER_INTERVALS = 30;

/**
 * Runs `fn` every `ms`, skipping a beat while the previous run is still going. A run that
 * outlasts STUCK_AFTER_INTERVALS beats is logged as an error with the job's name: every NATS
 * call it makes has a deadline, so one that never settles is a defect to see, not to wait out.
 */
function every(name: string, ms: number, log: Logger, fn: () => Promise<void>): NodeJS.Timeout {
  let since = 0;
  let reported = false;
  return setInterval(() => {
    if (since > 0) {
      const running = Date.now() - since;
      if (!reported && running > ms * STUCK_AFTER_INTERVALS) {
        reported = true;
        log.error({ job: name, running_ms: running }, "periodic job has not finished");
      }
      return;
    }
    since = Date.now();
    reported = false;
    fn()
      .catch((err: unknown) => log.error({ err, job: name }, "periodic job failed"))
      .finally(() => {
        since = 0;
      });
  }, ms);
}
