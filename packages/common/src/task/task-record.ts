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
  return patchRecord(r, { ...extra, status, updateTime: now, finishTime: now });
}
