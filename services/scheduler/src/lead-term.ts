import { fromBinary } from "@bufbuild/protobuf";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { ObjectStore } from "@nats-io/obj";
import {
  Consumers,
  DUPLICATE_WINDOW_MS,
  type Logger,
  pullLoop,
  Streams,
  Subjects,
  type TaskStore,
  type UsageLedger,
} from "@t2v/common";
import { CancelRequestedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { createRecordWriter } from "./adapters/record-writer.js";
import { createDeadLetters, createResultCache, createStatsWriter } from "./adapters/side-records.js";
import { readWorkerGroups, type WorkerGroupView } from "./adapters/worker-registry.js";
import type { schedulerConfig } from "./config.js";
import { createDispatcher } from "./dispatcher.js";
import { serveEstimates } from "./entry-points/estimates-responder.js";
import { createEventApplier, createEventHandler } from "./entry-points/event-handler.js";
import { createSubmitHandler } from "./entry-points/submit-handler.js";
import { rebuildState } from "./rebuild.js";
import { createReconciler } from "./reconciler.js";
import type { SchedulerMetrics } from "./scheduler-metrics.js";
import { SchedulerState } from "./state.js";
import { createSweeper } from "./sweeper.js";

/** A dispatched job not started after this long is published again (deduplicated). */
const REPUBLISH_AFTER_MS = 15_000;

type Config = { [K in keyof typeof schedulerConfig]: ReturnType<(typeof schedulerConfig)[K]["parse"]> };

export interface TermDeps {
  config: Config;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  tasks: TaskStore;
  videos: ObjectStore;
  kv: { workers: KV; deadLetters: KV; resultCache: KV; queueStats: KV };
  usage: UsageLedger;
  metrics: SchedulerMetrics;
  log: Logger;
  /** Where metrics read the current term's state from. */
  publish: (view: { state?: SchedulerState; groups: WorkerGroupView[] }) => void;
}

/**
 * One term as leader: rebuild the queues from the task records, then consume
 * submissions and worker events, dispatch, reconcile and publish queue stats
 * until `signal` fires (lease lost, or shutdown). Everything the term built
 * is dropped with it; the next term rebuilds from the records.
 */
export async function leadTerm(d: TermDeps, signal: AbortSignal): Promise<void> {
  const { config, log } = d;
  const state = new SchedulerState();
  let groups: WorkerGroupView[] = await readWorkerGroups(d.kv.workers, config.workerFreshMs);
  d.publish({ state, groups });
  const write = createRecordWriter({ tasks: d.tasks, js: d.js, log, usage: d.usage, metrics: d.metrics });
  const dispatcher = createDispatcher({
    tasks: d.tasks,
    state,
    write,
    js: d.js,
    jsm: d.jsm,
    log,
    ageing: { batchPromoteAfterMs: config.batchPromoteAfterMs },
    prefetch: config.prefetch,
    groups: () => groups,
    metrics: d.metrics,
  });
  const kick = (): void => {
    if (!signal.aborted) void dispatcher.round();
  };
  const cache = createResultCache(d.kv.resultCache);
  const applyEvent = createEventApplier({
    tasks: d.tasks,
    state,
    write,
    cache,
    deadLetter: createDeadLetters(d.kv.deadLetters),
    usage: d.usage,
    metrics: d.metrics,
    retry: {
      maxAttempts: config.maxAttempts,
      baseDelayMs: config.retryBaseDelayMs,
      maxDelayMs: config.retryMaxDelayMs,
    },
    model: config.modelId,
    random: Math.random,
    log,
    kick,
  });
  const reconcile = createReconciler({
    tasks: d.tasks,
    state,
    write,
    nc: d.nc,
    applyEvent,
    policy: {
      stallTimeoutMs: config.stallTimeoutMs,
      dispatchTimeoutMs: config.dispatchTimeoutMs,
      republishAfterMs: REPUBLISH_AFTER_MS,
      duplicateWindowMs: DUPLICATE_WINDOW_MS,
    },
    republish: dispatcher.publishJob,
    log,
  });
  const writeStats = createStatsWriter(d.kv.queueStats);
  const sweep = createSweeper({
    tasks: d.tasks,
    state,
    windowMs: config.sweepWindowHours * 3_600_000,
    log,
    kick,
  });

  await rebuildState(d.tasks, state, dispatcher, log);

  const subs = [
    // A cancelled queued task leaves the queue at once.
    d.nc.subscribe(Subjects.cancel, {
      callback: (err, msg) => {
        if (err) return;
        try {
          state.forget(fromBinary(CancelRequestedSchema, msg.data).taskId);
        } catch {
          // Malformed broadcasts cancel nothing.
        }
      },
    }),
    serveEstimates(d.nc, state, () => groups, config.defaultRunSeconds),
  ];
  const timers = [
    every(1_000, log, async () => {
      groups = await readWorkerGroups(d.kv.workers, config.workerFreshMs);
      d.publish({ state, groups });
      await dispatcher.round();
    }),
    every(1_000, log, async () => {
      for (const tenant of [...state.dirtyTenants]) {
        state.dirtyTenants.delete(tenant);
        const c = state.counts(tenant);
        await writeStats(tenant, c.queued, c.running);
      }
    }),
    every(config.reconcileIntervalMs, log, () => reconcile()),
    every(config.sweepIntervalMs, log, () => sweep()),
  ];

  const loops = Promise.all([
    pullLoop(
      await d.js.consumers.get(Streams.submit, Consumers.schedulerSubmit),
      createSubmitHandler({
        tasks: d.tasks,
        state,
        cache,
        videos: d.videos,
        write,
        model: config.modelId,
        metrics: d.metrics,
        log,
        kick,
      }),
      { signal, log, name: "t2v.submit" },
    ),
    pullLoop(await d.js.consumers.get(Streams.events, Consumers.schedulerEvents), createEventHandler(applyEvent), {
      signal,
      log,
      name: "t2v.event",
    }),
  ]);
  kick();
  log.info("scheduler running");
  await loops;
  for (const t of timers) clearInterval(t);
  for (const s of subs) s.unsubscribe();
  d.publish({ groups: [] });
}

/** Runs `fn` every `ms`, skipping a beat while the previous run is still going. */
function every(ms: number, log: Logger, fn: () => Promise<void>): NodeJS.Timeout {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    fn()
      .catch((err: unknown) => log.error({ err }, "periodic job failed"))
      .finally(() => {
        busy = false;
      });
  }, ms);
}
