import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type QueueEstimate, QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { estimateTask } from "./estimate-task.js";
import type { SchedulerState } from "./state.js";
import type { WatchedSet } from "./watch-sets.js";
import type { WorkerGroup } from "./worker-group.js";

/**
 * An ETA is pushed again once it moved by more than this, or by more than
 * ETA_TOLERANCE_SHARE of the wait left, whichever is larger: while nothing
 * moves in the queue the ETAs slide with the clock, and pushing each slide
 * would resend every watched task every interval.
 */
export const ETA_TOLERANCE_MS = 2_000;
export const ETA_TOLERANCE_SHARE = 0.05;

/** Where each watched task stands now: queued ones with position and ETAs, others as not queued. Pure. */
export function watchedEstimates(
  state: SchedulerState,
  groups: readonly WorkerGroup[],
  set: WatchedSet,
  now: number,
  defaultRunSeconds: number,
): QueueEstimate[] {
  return [...set.taskIds].map((taskId) => {
    const e = estimateTask(state, groups, taskId, now, defaultRunSeconds) ?? create(QueueEstimateSchema, { taskId });
    const size = set.sizes.get(taskId);
    if (size) e.estimatedGpuSeconds = state.estimateGpuSecondsOf(size.pool, size, defaultRunSeconds);
    return e;
  });
}

/** Whether the gateway would show `b` differently from `a` (an ETA within the tolerance counts as the same). Pure. */
export function estimateMoved(a: QueueEstimate, b: QueueEstimate, now: number): boolean {
  return (
    a.queued !== b.queued ||
    a.position !== b.position ||
    a.estimatedGpuSeconds !== b.estimatedGpuSeconds ||
    etaMoved(
      a.estimatedStartTime && timestampMs(a.estimatedStartTime),
      b.estimatedStartTime && timestampMs(b.estimatedStartTime),
      now,
    ) ||
    etaMoved(
      a.estimatedFinishTime && timestampMs(a.estimatedFinishTime),
      b.estimatedFinishTime && timestampMs(b.estimatedFinishTime),
      now,
    )
  );
}

function etaMoved(a: number | undefined, b: number | undefined, now: number): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return Math.abs(a - b) > Math.max(ETA_TOLERANCE_MS, ETA_TOLERANCE_SHARE * Math.max(0, b - now));
}

/**
 * What to push to a gateway: the estimates of `current` it was never sent or
 * that moved since, and what it holds afterwards (tasks dropped from its
 * set are forgotten). Pure.
 */
export function estimateChanges(
  pushed: ReadonlyMap<string, QueueEstimate>,
  current: readonly QueueEstimate[],
  now: number,
): { changed: QueueEstimate[]; pushed: Map<string, QueueEstimate> } {
  const changed: QueueEstimate[] = [];
  const next = new Map<string, QueueEstimate>();
  for (const e of current) {
    const last = pushed.get(e.taskId);
    if (!last || estimateMoved(last, e, now)) {
      changed.push(e);
      next.set(e.taskId, e);
    } else next.set(e.taskId, last);
  }
  return { changed, pushed: next };
}
