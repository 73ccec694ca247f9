import { toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient } from "@nats-io/jetstream";
import {
  Attr,
  isTerminal,
  type Logger,
  type StoredTask,
  Subjects,
  statusName,
  type TaskStore,
  traceHeaders,
  type UsageLedger,
} from "@t2v/common";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { SchedulerMetrics } from "../scheduler-metrics.js";

export type WriteRecord = (stored: StoredTask, next: TaskRecord) => Promise<StoredTask | null>;

/**
 * Compare-and-swap of a task record; on a status change, a notification for
 * webhooks and other listeners, and when the task ends, its metrics and (once
 * completed) its usage record. Returns null when another writer got there
 * first: the caller re-reads and decides again.
 */
export function createRecordWriter(deps: {
  tasks: TaskStore;
  js: JetStreamClient;
  log: Logger;
  usage: UsageLedger;
  metrics: SchedulerMetrics;
}): WriteRecord {
  return async (stored, next) => {
    const written = await deps.tasks.replace(next, stored.revision);
    if (!written) return null;
    const before = stored.record.task?.status;
    const task = next.task;
    if (!task || before === task.status) return written;
    const taskId = task.taskId;
    deps.log.info({ task_id: taskId, attempt: task.attempt, status: statusName(task.status) }, "task status");
    if (isTerminal(task.status)) {
      const labels = { [Attr.pool]: next.pool, [Attr.status]: statusName(task.status) };
      deps.metrics.finished.add(1, labels);
      if (task.createTime && task.finishTime) {
        deps.metrics.endToEnd.record((timestampMs(task.finishTime) - timestampMs(task.createTime)) / 1000, labels);
      }
    }
    if (task.status === TaskStatus.COMPLETED) await recordUsage(deps, next);
    // Published after the write: a crash in between loses one notification,
    // never a state change. Deduplicated per status and attempt.
    await deps.js
      .publish(Subjects.notify(taskId), toBinary(TaskRecordSchema, next), {
        msgID: `notify:${taskId}:${task.attempt}:${task.status}`,
        headers: traceHeaders(taskId),
      })
      .catch((err: unknown) => deps.log.warn({ err, task_id: taskId }, "task notification not published"));
    return written;
  };
}

/** Exactly one usage record per completed task: a create, so repeats change nothing. */
export async function recordUsage(deps: { usage: UsageLedger; log: Logger }, r: TaskRecord): Promise<void> {
  await deps.usage
    .record(r)
    .catch((err: unknown) => deps.log.error({ err, task_id: r.task?.taskId }, "usage record not written"));
}
