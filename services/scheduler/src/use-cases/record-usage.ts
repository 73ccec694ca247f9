import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { TaskStore, UsageLedger, VideoBytes } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal, storedResultBytes } from "@t2v/common/task";

export interface SettleDeps {
  usage: Pick<UsageLedger, "record">;
  /** The tenant's stored result bytes, counted once per task (its byte cap at the gateway). */
  videoBytes: Pick<VideoBytes, "count">;
  tasks: Pick<TaskStore, "settled">;
  log: Logger;
}

/**
 * Settles a task that ended: a completed one gets its usage record (the ledger creates it
 * once, so a repeat changes nothing: never two) and its result's bytes are counted for its
 * tenant on its finish day (once per task, likewise), then the task leaves the active index.
 * Until all went through it stays there, and the sweep settles it again: a failed usage
 * or byte write is repaired, never lost. True when settled.
 */
export async function settleEnded(deps: SettleDeps, r: TaskRecord): Promise<boolean> {
  const task = r.task;
  if (!task || !isTerminal(task.status)) return false;
  try {
    if (task.status === TaskStatus.COMPLETED) await deps.usage.record(r);
    const bytes = storedResultBytes(r);
    if (bytes > 0) {
      const finished = task.finishTime ? timestampMs(task.finishTime) : Date.now();
      await deps.videoBytes.count(r.tenantId, task.taskId, bytes, finished);
    }
    await deps.tasks.settled(task.taskId);
    return true;
  } catch (err) {
    deps.log.error(
      { err, task_id: task.taskId },
      "usage record, byte count or settlement not written; the sweep repairs it",
    );
    return false;
  }
}
