import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { afterYield, isTerminal, patchRecord } from "@t2v/common/task";
import { GatewayErrorCode } from "./error-codes.js";

/** What a pause, resume or priority change does to a record. */
export type ControlOutcome =
  | { kind: "changed"; record: TaskRecord }
  | { kind: "unchanged" }
  /** FAILED_PRECONDITION: `code` is the ErrorInfo reason. */
  | { kind: "refused"; code: string; message: string };

const UNCHANGED: ControlOutcome = { kind: "unchanged" };
const ENDED: ControlOutcome = {
  kind: "refused",
  code: GatewayErrorCode.taskEnded,
  message: "the task has ended",
};

/**
 * PauseTask: a queued or running task reads PAUSED until `now + ttlMs`. The
 * attempt is left as it is: a job already sent is skipped by the worker that
 * gets it (the record says PAUSED), and a running one yields at its next step
 * boundary with a checkpoint. Pure.
 */
export function pauseRecord(r: TaskRecord, nowMs: number, ttlMs: number): ControlOutcome {
  const t = r.task;
  if (!t || isTerminal(t.status)) return ENDED;
  if (t.status === TaskStatus.PAUSED) return UNCHANGED;
  if (t.status === TaskStatus.ENCODING)
    return {
      kind: "refused",
      code: GatewayErrorCode.taskEncoding,
      message: "the task is encoding: its denoise is done and it finishes in seconds",
    };
  const now = timestampFromMs(nowMs);
  return {
    kind: "changed",
    record: patchRecord(r, {
      status: TaskStatus.PAUSED,
      updateTime: now,
      pauseExpireTime: timestampFromMs(nowMs + ttlMs),
      queuePosition: 0,
      estimatedStartTime: undefined,
      estimatedFinishTime: undefined,
    }),
  };
}

/**
 * ResumeTask: a paused task is QUEUED again; the scheduler files it at its
 * place (creation time, priority) in its tenant's queue. When the attempt
 * that was paused had been sent to a worker and has not reported yielding
 * yet, the next one is a fresh attempt, not charged to the retry budget.
 * Pure.
 */
export function resumeRecord(r: TaskRecord, nowMs: number): ControlOutcome {
  const t = r.task;
  if (!t || isTerminal(t.status)) return ENDED;
  if (t.status !== TaskStatus.PAUSED) return UNCHANGED;
  const now: Timestamp = timestampFromMs(nowMs);
  const fields = { status: TaskStatus.QUEUED, updateTime: now, pauseExpireTime: undefined };
  return {
    kind: "changed",
    record: r.dispatchedAttempt === t.attempt ? afterYield(r, fields) : patchRecord(r, fields),
  };
}

/** UpdateTaskPriority: any task that has not ended. Pure. */
export function reprioritiseRecord(r: TaskRecord, priority: number, nowMs: number): ControlOutcome {
  const t = r.task;
  if (!t || isTerminal(t.status)) return ENDED;
  if (t.priority === priority) return UNCHANGED;
  return { kind: "changed", record: patchRecord(r, { priority, updateTime: timestampFromMs(nowMs) }) };
}
