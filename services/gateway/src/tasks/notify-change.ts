import type { JetStreamClient } from "@nats-io/jetstream";
import { publishProto, Subjects, statusName } from "@t2v/common";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";

/** Tells webhook listeners about a status change the gateway made itself (cancel). */
export function notifyChange(js: JetStreamClient, record: TaskRecord): Promise<unknown> {
  const task = record.task;
  if (!task) return Promise.resolve();
  return publishProto(js, Subjects.notify(task.taskId), TaskRecordSchema, record, {
    msgId: `notify:${task.taskId}:${statusName(task.status)}:${task.attempt}`,
    taskId: task.taskId,
  });
}
