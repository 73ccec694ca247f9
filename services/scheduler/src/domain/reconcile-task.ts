import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTerminal } from "@t2v/common/task";

export interface ReconcilePolicy {
  /** A denoising task with no event for this long has lost its worker. */
  stallTimeoutMs: number;
  /** A task handed to a queue (dispatched, or latents waiting for an encoder) with no event this long has lost its job. */
  dispatchTimeoutMs: number;
  /**
   * A dispatched task not started this long has its job published again, in
   * case the first publish never reached JetStream. Only inside JetStream's
   * duplicate window, so a job that did arrive is never doubled.
   */
  republishAfterMs: number;
  duplicateWindowMs: number;
}

export type ReconcileAction =
  | { kind: "none" }
  | { kind: "deadline" }
  /** Queued past its start_timeout with no attempt started: fail it, unbilled. */
  | { kind: "startTimeout" }
  /** Treat as a transient failure of the current attempt (retry or fail). */
  | { kind: "stalled"; message: string }
  /** Dispatched, not started: publish the job again (deduplicated by its message id). */
  | { kind: "republish" }
  /** Paused past its pause_expire_time: cancel it and delete its checkpoint. */
  | { kind: "pauseExpired" };

/**
 * The backstop against lost messages and dead workers: what to do with a
 * task that has not ended. Pure.
 */
export function reconcileTask(r: TaskRecord, now: number, policy: ReconcilePolicy): ReconcileAction {
  const t = r.task;
  if (!t || isTerminal(t.status)) return { kind: "none" };
  if (t.deadline && now > timestampMs(t.deadline)) return { kind: "deadline" };
  if (t.status === TaskStatus.PAUSED)
    return t.pauseExpireTime && now > timestampMs(t.pauseExpireTime) ? { kind: "pauseExpired" } : { kind: "none" };
  if (t.status === TaskStatus.QUEUED && !t.startTime && t.startDeadline && now > timestampMs(t.startDeadline))
    return { kind: "startTimeout" };
  const idleS = (now - (t.updateTime ? timestampMs(t.updateTime) : now)) / 1000;
  if (t.status === TaskStatus.PROCESSING && idleS * 1000 > policy.stallTimeoutMs)
    return { kind: "stalled", message: `no progress for ${Math.round(idleS)} s (worker lost)` };
  // Waiting for a worker or for an encoder is not a stall until the hand-off timeout.
  const handedOff =
    (t.status === TaskStatus.QUEUED && r.dispatchedAttempt === t.attempt) || t.status === TaskStatus.ENCODING;
  if (handedOff && idleS * 1000 > policy.dispatchTimeoutMs)
    return { kind: "stalled", message: `no progress ${Math.round(idleS)} s after hand-off (job or worker lost)` };
  if (idleS * 1000 > policy.republishAfterMs && mayRepublish(r, now, policy)) return { kind: "republish" };
  return { kind: "none" };
}

/**
 * Whether a task's GenerateJob may be published again: it was dispatched and not started, and
 * recently enough that JetStream still remembers the first publish's message id, so a job that
 * did arrive is dropped as a duplicate. Older, a lost job is the hand-off timeout's to retry.
 * The reconciler and a new leader's rebuild both ask this.
 */
export function mayRepublish(r: TaskRecord, now: number, policy: Pick<ReconcilePolicy, "duplicateWindowMs">): boolean {
  const t = r.task;
  if (!t || t.status !== TaskStatus.QUEUED || r.dispatchedAttempt !== t.attempt || r.dispatchedGroup === "")
    return false;
  const idleMs = now - (t.updateTime ? timestampMs(t.updateTime) : now);
  return idleMs < policy.duplicateWindowMs - 60_000;
}
