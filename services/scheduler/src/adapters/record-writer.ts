import { toBinary } from "@bufbuild/protobuf";
import type { JetStreamClient } from "@nats-io/jetstream";
import { type Logger, type StoredTask, Subjects, statusName, type TaskStore } from "@t2v/common";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";

export type WriteRecord = (stored: StoredTask, next: TaskRecord) => Promise<StoredTask | null>;

/**
 * Compare-and-swap of a task record, then a notification on its status
 * change for webhooks and other listeners. Returns null when another writer
 * got there first: the caller re-reads and decides again.
 */
export function createRecordWriter(deps: { tasks: TaskStore; js: JetStreamClient; log: Logger }): WriteRecord {
  return async (stored, next) => {
    const written = await deps.tasks.replace(next, stored.revision);
    if (!written) return null;
    const before = stored.record.task?.status;
    const after = next.task?.status;
    if (after !== undefined && before !== after) {
      const taskId = next.task?.taskId ?? "";
      deps.log.info({ task_id: taskId, attempt: next.task?.attempt, status: statusName(after) }, "task status");
      // Published after the write: a crash in between loses one notification,
      // never a state change. Deduplicated per status and attempt.
      await deps.js
        .publish(Subjects.notify(taskId), toBinary(TaskRecordSchema, next), {
          msgID: `notify:${taskId}:${next.task?.attempt}:${after}`,
        })
        .catch((err: unknown) => deps.log.warn({ err, task_id: taskId }, "task notification not published"));
    }
    return written;
  };
}
