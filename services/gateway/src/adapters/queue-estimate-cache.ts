import { MAX_ESTIMATE_IDS, type QueueEstimates } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { Task } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { applyEstimate, ESTIMATE_TIMEOUT_MS, sizeOf } from "./queue-estimates.js";

/** How often the estimates of watched queued tasks are asked again, all in one request. */
export const ESTIMATE_INTERVAL_MS = 2_000;

export interface QueueEstimateCache {
  /** Keeps this queued task's estimate fresh until `untrack`; the task is kept for its size. */
  track(task: Task): void;
  untrack(taskId: string): void;
  /** Fills the task from the cache, asking the scheduler first (bounded by the timeout) when it has no answer yet. */
  fill(task: Task): Promise<void>;
  tracked(): number;
  stop(): void;
}

interface Entry {
  task: Task;
  estimate: QueueEstimate | undefined;
  askedAt: number;
  first: Promise<void> | undefined;
}

/**
 * Queue estimates of the tasks this gateway's streams watch, shared by all of
 * them: one request for all tracked tasks (in batches of MAX_ESTIMATE_IDS)
 * per interval, so each task is asked at most once per interval however many
 * streams watch it. `onChange` hears a task whose position or ETA moved.
 * The scheduler answers requests only (it publishes no estimates), hence the
 * polling; when it is slow or away the estimates stay as last known.
 */
export function createQueueEstimateCache(deps: {
  estimates: QueueEstimates;
  onChange: (taskId: string, estimate: QueueEstimate) => void;
  log: Logger;
  intervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
}): QueueEstimateCache {
  const intervalMs = deps.intervalMs ?? ESTIMATE_INTERVAL_MS;
  const timeoutMs = deps.timeoutMs ?? ESTIMATE_TIMEOUT_MS;
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  async function ask(batch: Entry[]): Promise<void> {
    const at = now();
    for (const e of batch) e.askedAt = at;
    let answer: QueueEstimate[];
    try {
      answer = await deps.estimates.request(
        batch.map((e) => e.task.taskId),
        timeoutMs,
        batch.filter((e) => e.task.estimatedGpuSeconds === 0 && e.task.params).map((e) => sizeOf(e.task)),
      );
    } catch {
      return;
    }
    for (const est of answer) {
      const e = entries.get(est.taskId);
      if (!e) continue;
      const moved = e.estimate !== undefined && !sameEstimate(e.estimate, est);
      e.estimate = est;
      if (moved) deps.onChange(est.taskId, est);
    }
  }

  async function tick(): Promise<void> {
    if (ticking) return;
    ticking = true;
    try {
      const due = [...entries.values()].filter((e) => e.first === undefined && now() - e.askedAt >= intervalMs * 0.9);
      for (let i = 0; i < due.length; i += MAX_ESTIMATE_IDS) await ask(due.slice(i, i + MAX_ESTIMATE_IDS));
    } catch (err) {
      deps.log.warn({ err }, "queue estimates: refresh failed");
    } finally {
      ticking = false;
    }
  }

  const startTimer = (): void => {
    if (timer) return;
    timer = setInterval(() => void tick(), intervalMs);
    timer.unref();
  };
  const stopTimer = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };

  return {
    track(task) {
      const e = entries.get(task.taskId);
      if (e) e.task = task;
      else entries.set(task.taskId, { task, estimate: undefined, askedAt: 0, first: undefined });
      startTimer();
    },
    untrack(taskId) {
      entries.delete(taskId);
      if (entries.size === 0) stopTimer();
    },
    async fill(task) {
      const e = entries.get(task.taskId);
      if (!e) return;
      if (!e.estimate && now() - e.askedAt >= intervalMs) {
        e.first ??= ask([e]).finally(() => {
          e.first = undefined;
        });
      }
      if (e.first) await e.first;
      if (e.estimate) applyEstimate(task, e.estimate);
    },
    tracked: () => entries.size,
    stop() {
      stopTimer();
      entries.clear();
    },
  };
}

function sameEstimate(a: QueueEstimate, b: QueueEstimate): boolean {
  return (
    a.queued === b.queued &&
    a.position === b.position &&
    a.estimatedStartTime?.seconds === b.estimatedStartTime?.seconds &&
    a.estimatedFinishTime?.seconds === b.estimatedFinishTime?.seconds &&
    a.estimatedGpuSeconds === b.estimatedGpuSeconds
  );
}
