import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type BlobStore,
  latentObjectNames,
  type TaskStore,
  type UsageLedger,
  type VideoBytes,
} from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal, storedResultBytes } from "@t2v/common/task";

export interface SettleDeps {
  usage: Pick<UsageLedger, "record">;
  /** The tenant's stored result bytes, counted once per task (its byte cap at the gateway). */
  videoBytes: Pick<VideoBytes, "count">;
  tasks: Pick<TaskStore, "settled">;
  /** Where every attempt's latents are deleted once the task ended. */
  latents: Pick<BlobStore, "delete">;
  log: Logger;
}

/**
 * Settles a task that ended: a completed one gets its usage record (the ledger creates it
 * once, so a repeat changes nothing: never two) and its result's bytes are counted for its
 * tenant on its finish day (once per task, likewise), the latents of every attempt are deleted,
 * then the task leaves the active index. Until all went through it stays there, and the sweep
 * settles it again: a failed usage, byte write or delete is repaired, never lost. True when settled.
 *
 * The workers delete latents as they go, but not those of an attempt whose encode failed or was
 * superseded, nor any whose delete an outage refused: an ended task needs none of them.
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
    await Promise.all(latentObjectNames(r).map((name) => deps.latents.delete(name)));
    await deps.tasks.settled(task.taskId);
    return true;
  } catch (err) {
    deps.log.error(
      { err, task_id: task.taskId },
      "usage record, byte count, latents' deletion or settlement not done; the sweep repairs it",
    );
    return false;
  }
}
