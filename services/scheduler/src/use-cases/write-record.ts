import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { BlobStore, StoredTask, TaskChanges, TaskStore, UsageLedger, VideoBytes } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal, statusName } from "@t2v/common/task";
import { Attr } from "@t2v/common/telemetry";
import type { SchedulerMetrics } from "../metrics.js";
import { NotLeaderError, type TermFence } from "./leadership.js";
import { settleEnded } from "./record-usage.js";

/** Writes a task record; null when another writer got there first (the caller re-reads and decides again). */
export type WriteRecord = (stored: StoredTask, next: TaskRecord) => Promise<StoredTask | null>;

export interface WriteRecordDeps {
  tasks: TaskStore;
  taskChanges: TaskChanges;
  usage: UsageLedger;
  videoBytes: Pick<VideoBytes, "count">;
  /** Where an ended task's latents are deleted when it is settled. */
  latents: Pick<BlobStore, "delete">;
  metrics: SchedulerMetrics;
  log: Logger;
  /** The leader term this writer writes for. */
  fence: TermFence;
}

/**
 * Every state change of a task goes through here: a compare-and-swap of the
 * record, then on a status change a task-change notification for webhooks
 * and other listeners, and when the task ends its metrics and (once
 * completed) its usage record. Fenced by the leader's term: nothing is
 * written once the term may have passed to another replica, nor over a
 * record a later term wrote (NotLeaderError: the message that asked for the
 * write is left to the new leader).
 */
export function createRecordWriter(deps: WriteRecordDeps): WriteRecord {
  return async (stored, proposed) => {
    const { fence } = deps;
    fence.check();
    if (stored.record.leaderTerm > fence.term) {
      throw new NotLeaderError(`task ${proposed.task?.taskId} was written by term ${stored.record.leaderTerm}`);
    }
    const next: TaskRecord = { ...proposed, leaderTerm: fence.term };
    // Checked again right before the record's own write: a status change first writes the task
    // lists (round trips a replica stopped past its lease may sleep through).
    const written = await deps.tasks.replace(next, stored.revision, stored.record, { guard: () => fence.check() });
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
    // Billed (once completed) and out of the active index; what fails here the sweep settles later.
    if (isTerminal(task.status)) await settleEnded(deps, next);
    // Published after the write: a crash in between loses one notification,
    // never a state change. The channel deduplicates per status and attempt.
    await deps.taskChanges
      .publish(next)
      .catch((err: unknown) => deps.log.warn({ err, task_id: taskId }, "task notification not published"));
    return written;
  };
}
