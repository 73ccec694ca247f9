import { metrics } from "@opentelemetry/api";
import { Attr, observeEach, secondsHistogram } from "@t2v/common/telemetry";
import type { LeaderSnapshot } from "./domain/leader-snapshot.js";

const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/**
 * The scheduler's metrics. Created after telemetry starts (a meter taken
 * earlier would be a no-op); gauges read the current leader term's state.
 */
export function createSchedulerMetrics(snapshot: () => LeaderSnapshot) {
  const meter = metrics.getMeter("t2v-scheduler");
  // Each series reads 0 once gone (a pool emptied, a group gone, this replica no longer leading).
  const queueDepth = observeEach(Attr.pool);
  const inFlight = observeEach(Attr.pool);
  const workers = observeEach(Attr.group);
  meter
    .createObservableGauge("t2v_queue_depth", { description: "Tasks waiting for a worker, per pool (pool = tier)" })
    .addCallback((o) => {
      queueDepth(
        o,
        [...(snapshot().state?.queues ?? [])].map(([pool, q]) => [pool, q.size]),
      );
    });
  meter
    .createObservableGauge("t2v_tasks_in_flight", { description: "Tasks dispatched or running, per pool" })
    .addCallback((o) => {
      const counts = new Map<string, number>();
      for (const f of snapshot().state?.inFlight.values() ?? []) counts.set(f.pool, (counts.get(f.pool) ?? 0) + 1);
      inFlight(o, counts);
    });
  meter
    .createObservableGauge("t2v_workers", { description: "Live inference workers, per worker group" })
    .addCallback((o) => {
      workers(
        o,
        snapshot().groups.map((g) => [g.group, g.workers]),
      );
    });
  const histogram = (name: string, description: string) => secondsHistogram(meter, name, description, SECONDS_BUCKETS);
  return {
    queueWait: histogram("t2v_queue_wait_seconds", "Submission to dispatch of a task's first attempt"),
    endToEnd: histogram("t2v_task_duration_seconds", "Submission to the end of a task, per pool and outcome"),
    finished: meter.createCounter("t2v_tasks_finished_total", { description: "Tasks ended, per pool and status" }),
    cacheHits: meter.createCounter("t2v_cache_hits_total", { description: "Tasks served from the result cache" }),
    retries: meter.createCounter("t2v_retries_total", { description: "Attempts retried, per failing stage" }),
    deadLetters: meter.createCounter("t2v_dead_letters_total", { description: "Tasks that failed for good" }),
    preemptions: meter.createCounter("t2v_preemptions_total", {
      description: "Running tasks asked to yield their worker to higher-tier work, per pool of the preempted task",
    }),
  };
}

export type SchedulerMetrics = ReturnType<typeof createSchedulerMetrics>;
