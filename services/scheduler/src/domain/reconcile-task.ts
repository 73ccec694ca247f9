import { timestampMs } from "@bufbuild/protobuf/wkt";
import { isTerminal } from "@t2v/common";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export interface ReconcilePolicy {
  /** A running task with no event for this long has lost its worker. */
  stallTimeoutMs: number;
  /** A dispatched task no worker started for this long has lost its job. */
  dispatchTimeoutMs: number;
}

export type ReconcileAction =
  | { kind: "none" }
  | { kind: "deadline" }
  /** Treat as a transient failure of the current attempt (retry or fail). */
  | { kind: "stalled"; message: string };

/**
 * The backstop against lost messages and dead workers: what to do with a
 * task that has not ended. Pure.
 */
export function reconcileTask(r: TaskRecord, now: number, policy: ReconcilePolicy): ReconcileAction {
  const t = r.task;
  if (!t || isTerminal(t.status)) return { kind: "none" };
  if (t.deadline && now > timestampMs(t.deadline)) return { kind: "deadline" };
  const idleMs = now - (t.updateTime ? timestampMs(t.updateTime) : now);
  const running = t.status === TaskStatus.PROCESSING || t.status === TaskStatus.ENCODING;
  if (running && idleMs > policy.stallTimeoutMs)
    return { kind: "stalled", message: `no progress for ${Math.round(idleMs / 1000)} s (worker lost)` };
  const dispatched = t.status === TaskStatus.QUEUED && r.dispatchedAttempt === t.attempt;
  if (dispatched && idleMs > policy.dispatchTimeoutMs)
    return { kind: "stalled", message: `not started ${Math.round(idleMs / 1000)} s after dispatch (job lost)` };
  return { kind: "none" };
}
