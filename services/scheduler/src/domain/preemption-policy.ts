import { TIERS } from "@t2v/common/task";
import type { WorkerGroup } from "./worker-group.js";

/** One task in flight in a worker group, as the preemption policy sees it. */
export interface GroupWork {
  taskId: string;
  attempt: number;
  /** Its tier (pool). */
  pool: string;
  /** Denoising on a worker (true) or dispatched and not started yet (a job waiting or held). */
  started: boolean;
  /** Steps this task still has to run. */
  remainingSteps: number;
  /** When this attempt started denoising (ms), as the scheduler saw it. */
  runningSince: number;
  /** Asked to yield already (the answer is on its way). */
  yielding: boolean;
}

export interface PreemptionPolicy {
  /** Preemption off: higher tiers wait for a worker to finish, as before. */
  enabled: boolean;
  /** An attempt runs at least this long before it may be preempted, so a task is not preempted over and over. */
  minRunMs: number;
}

export interface Preemption {
  /** The running task to stop at its next step boundary. */
  victim: GroupWork;
  /** The task it yields to: queued, or dispatched to the group and waiting behind the victim. */
  forTaskId: string;
  forPool: string;
  /**
   * Lower-tier jobs dispatched to the group and not started: taken back (a fresh attempt,
   * re-queued at its place) so the worker the victim frees takes the waiting task, not them.
   */
  recall: GroupWork[];
}

/** 0 for the highest tier; unknown pools rank below every tier. */
export function tierRank(pool: string): number {
  const i = (TIERS as readonly string[]).indexOf(pool);
  return i < 0 ? TIERS.length : i;
}

/**
 * Whether the best task waiting for `group` (`queued`, the head of what it would dispatch next,
 * or a job dispatched to it and not started: a prefetched or held job waits behind the running
 * ones too) should take a worker from lower-tier work, and whose. The documented policy:
 *
 * - only when every worker of the group is denoising, none of them already yielding (one
 *   preemption at a time per group: its answer frees a worker), and the waiting task's tier is
 *   above the victim's;
 * - the victim is the running task of the lowest tier, then with the most steps left (it would
 *   hold the worker longest), then the most recently started;
 * - never one that has run less than `minRunMs` in this attempt (the quantum), nor one with a
 *   single step left (it frees the worker within a step anyway).
 *
 * Pure.
 */
export function choosePreemption(
  group: WorkerGroup,
  queued: { taskId: string; pool: string } | undefined,
  work: readonly GroupWork[],
  now: number,
  policy: PreemptionPolicy,
): Preemption | undefined {
  if (!policy.enabled) return undefined;
  const running = work.filter((w) => w.started);
  if (running.length < group.workers || running.some((w) => w.yielding)) return undefined;
  const waiting = [...(queued && group.pools.includes(queued.pool) ? [queued] : []), ...work.filter((w) => !w.started)];
  const best = waiting.sort((a, b) => tierRank(a.pool) - tierRank(b.pool))[0];
  if (!best) return undefined;
  const rank = tierRank(best.pool);
  const candidates = running.filter(
    (w) => tierRank(w.pool) > rank && w.remainingSteps > 1 && now - w.runningSince >= policy.minRunMs,
  );
  const victim = candidates.sort(
    (a, b) =>
      tierRank(b.pool) - tierRank(a.pool) || b.remainingSteps - a.remainingSteps || b.runningSince - a.runningSince,
  )[0];
  if (!victim) return undefined;
  const recall = work.filter((w) => !w.started && tierRank(w.pool) > rank);
  return { victim, recall, forTaskId: best.taskId, forPool: best.pool };
}
