import { type EstimatePushes, WATCH_HEARTBEAT_MS } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { Task } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { applyEstimate, ESTIMATE_TIMEOUT_MS, sizeOf } from "./queue-estimates.js";

/**
 * Registrations of a changing set are at least this far apart: a burst of streams opening or
 * closing shares one (each carries the whole set).
 */
export const WATCH_DEBOUNCE_MS = 100;
/** A task newly watched is registered this soon when the last registration is older: its first state waits for it. */
export const WATCH_ADD_DELAY_MS = 10;

export interface QueueEstimateCache {
  /** Keeps this queued task's estimate fresh until `untrack`; the task is kept for its size. */
  track(task: Task): void;
  untrack(taskId: string): void;
  /** Fills the task from the cache, waiting for its first push (bounded by the timeout) when it has none yet. */
  fill(task: Task): Promise<void>;
  tracked(): number;
  stop(): void;
}

interface Entry {
  task: Task;
  estimate: QueueEstimate | undefined;
  /** Fills waiting for the first push. */
  waiting: Set<() => void>;
}

/**
 * Queue estimates of the tasks this gateway's streams watch, shared by all of
 * them and pushed by the leading scheduler: the cache registers the watched
 * set (all of it, a new generation) shortly after it changes and every
 * heartbeat, and never asks per stream or per interval. The scheduler pushes
 * new tasks' estimates at once and then only what moved; `onChange` hears a
 * task whose position or ETA moved (one no longer queued comes once, with
 * queued false). When the scheduler is away the estimates stay as last known.
 */
export function createQueueEstimateCache(deps: {
  pushes: Pick<EstimatePushes, "register" | "onPush">;
  /** This gateway process's name on the push subject. */
  gatewayId: string;
  onChange: (taskId: string, estimate: QueueEstimate) => void;
  log: Logger;
  timeoutMs?: number;
  debounceMs?: number;
  addDelayMs?: number;
  heartbeatMs?: number;
  now?: () => number;
}): QueueEstimateCache {
  const timeoutMs = deps.timeoutMs ?? ESTIMATE_TIMEOUT_MS;
  const debounceMs = deps.debounceMs ?? WATCH_DEBOUNCE_MS;
  const addDelayMs = deps.addDelayMs ?? WATCH_ADD_DELAY_MS;
  const heartbeatMs = deps.heartbeatMs ?? WATCH_HEARTBEAT_MS;
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // Starts at the clock so a gateway restarted under the same id is not taken for an old one.
  let generation = BigInt(Date.now());
  // Whether the scheduler was last told a non-empty set: an emptied set is registered once, then silence.
  let registeredAny = false;
  let debounce: NodeJS.Timeout | undefined;
  let dueAt = 0;
  let sentAt = Number.NEGATIVE_INFINITY;

  function register(): void {
    if (debounce) clearTimeout(debounce);
    debounce = undefined;
    sentAt = now();
    if (entries.size === 0 && !registeredAny) return;
    const tasks = [...entries.values()].map((e) => e.task);
    try {
      deps.pushes.register(
        deps.gatewayId,
        ++generation,
        tasks.map((t) => t.taskId),
        tasks.filter((t) => t.estimatedGpuSeconds === 0 && t.params).map(sizeOf),
      );
      registeredAny = entries.size > 0;
    } catch (err) {
      deps.log.warn({ err }, "queue estimates: registering the watched tasks failed");
    }
  }
  /** Registers the set by `at` (kept if one is due sooner), never within `debounceMs` of the last one. */
  const registerBy = (at: number): void => {
    const when = Math.max(at, sentAt + debounceMs);
    if (debounce && dueAt <= when) return;
    if (debounce) clearTimeout(debounce);
    dueAt = when;
    debounce = setTimeout(register, Math.max(0, when - now()));
  };

  const sub = deps.pushes.onPush(deps.gatewayId, (estimates) => {
    for (const est of estimates) {
      const e = entries.get(est.taskId);
      if (!e) continue;
      const before = e.estimate;
      e.estimate = est;
      if (e.waiting.size > 0) {
        // The fills waiting for it apply it: no separate update.
        for (const wake of e.waiting) wake();
        e.waiting.clear();
      } else if (!before || !sameEstimate(before, est)) deps.onChange(est.taskId, est);
    }
  });
  const heartbeat = setInterval(register, heartbeatMs);
  heartbeat.unref();

  return {
    track(task) {
      const e = entries.get(task.taskId);
      if (e) e.task = task;
      else {
        entries.set(task.taskId, { task, estimate: undefined, waiting: new Set() });
        registerBy(now() + addDelayMs);
      }
    },
    untrack(taskId) {
      const e = entries.get(taskId);
      if (!e) return;
      entries.delete(taskId);
      for (const wake of e.waiting) wake();
      // Nobody waits on a removal: it can wait for the next burst.
      registerBy(now() + debounceMs);
    },
    async fill(task) {
      const e = entries.get(task.taskId);
      if (!e) return;
      if (!e.estimate) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            e.waiting.delete(wake);
            resolve();
          };
          e.waiting.add(wake);
          timer = setTimeout(wake, timeoutMs);
        });
      }
      if (e.estimate) applyEstimate(task, e.estimate);
    },
    tracked: () => entries.size,
    stop() {
      clearInterval(heartbeat);
      if (debounce) clearTimeout(debounce);
      sub.unsubscribe();
      for (const e of entries.values()) for (const wake of e.waiting) wake();
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
