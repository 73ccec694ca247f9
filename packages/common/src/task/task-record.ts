import { clone } from "@bufbuild/protobuf";
import { type Timestamp, timestampNow } from "@bufbuild/protobuf/wkt";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { Task, TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { isTerminal } from "./task-status.js";

type Fields<T> = Partial<Omit<T, "$typeName" | "$unknown">>;

/** A copy of the record with some task fields (and optionally record fields) changed. */
export function patchRecord(r: TaskRecord, task: Fields<Task>, record: Fields<TaskRecord> = {}): TaskRecord {
  const next = clone(TaskRecordSchema, r);
  Object.assign(next, record);
  if (!next.task) throw new Error("task record without task");
  Object.assign(next.task, task);
  return next;
}

/** Ends a task that has not ended yet; null (no change) when it already has. */
export function endTask(
  r: TaskRecord,
  status: TaskStatus.COMPLETED | TaskStatus.FAILED | TaskStatus.CANCELLED,
  extra: Fields<Task> = {},
  now: Timestamp = timestampNow(),
): TaskRecord | null {
  if (!r.task || isTerminal(r.task.status)) return null;
  return patchRecord(r, { pauseExpireTime: undefined, ...extra, status, updateTime: now, finishTime: now });
}

/**
 * The record with a fresh attempt after the current one yielded its worker
 * (pause, preemption): the next dispatch is a new job, and the yielded
 * attempt is not charged to the retry budget (`attemptsSpent`).
 */
export function afterYield(r: TaskRecord, task: Fields<Task> = {}, record: Fields<TaskRecord> = {}): TaskRecord {
  const attempt = (r.task?.attempt ?? 0) + 1;
  return patchRecord(r, { ...task, attempt }, { ...record, yieldedAttempts: r.yieldedAttempts + 1 });
}

/** Attempts that count against MAX_ATTEMPTS: those that did not end by yielding. */
export function attemptsSpent(r: TaskRecord): number {
  return Math.max(0, (r.task?.attempt ?? 0) - r.yieldedAttempts);
}
