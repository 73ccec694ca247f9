import { type Delivery, expiryHour, type ResultExpiry, type TaskStore, type VideoBytes } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { type RetentionPolicy, resultExpireUnix, storedResultBytes } from "@t2v/common/task";

export interface ExpireResultsDeps {
  expiry: ResultExpiry;
  tasks: Pick<TaskStore, "get">;
  /** Removes a task's video and poster (`ResultStore.deleteTask`); idempotent. */
  deleteResult: (taskId: string) => Promise<void>;
  /** The tenant's stored result bytes: an expired result's are taken back (once), freeing its byte cap. */
  videoBytes: Pick<VideoBytes, "release">;
  retention: RetentionPolicy;
  log: Logger;
  now: () => number;
}

/** Indexes each completed task's expiry (finish + retention) as its change arrives on the notification stream. */
export function createExpiryIndexer(
  deps: Pick<ExpireResultsDeps, "expiry" | "retention" | "now">,
): (d: Delivery<TaskRecord>) => Promise<void> {
  return async (d) => {
    const r = d.message;
    const task = r.task;
    if (task?.status === TaskStatus.COMPLETED && task.resultState !== ResultState.DELETED && r.videoObject !== "") {
      const exp = resultExpireUnix(r, deps.retention);
      if (exp !== null) await deps.expiry.schedule(task.taskId, exp, Math.floor(deps.now() / 1000));
    }
    d.ack();
  };
}

/**
 * Deletes the results that are due, from the hour the last sweep stopped at: the work is the expired tasks
 * (and the index entries of the current hour), never every finished task. A result that could not be
 * deleted stays in the index for the next sweep. Returns how many were deleted.
 */
export function createResultSweeper(deps: ExpireResultsDeps): () => Promise<number> {
  return async () => {
    const nowUnix = Math.floor(deps.now() / 1000);
    const thisHour = expiryHour(nowUnix);
    // The first sweep ever starts an hour back: nothing older was indexed.
    const from = (await deps.expiry.cursor()) ?? thisHour - 1;
    let deleted = 0;
    let failed = false;
    for (const due of await deps.expiry.due(nowUnix, from)) {
      try {
        const found = await deps.tasks.get(due.taskId);
        // Deleted by its owner already, or its record is gone (the objects may not be): delete either way.
        if (found?.record.task?.resultState !== ResultState.DELETED) await deps.deleteResult(due.taskId);
        // Without its record the tenant is unknown: its bytes leave the count with their day instead.
        const r = found?.record;
        if (r && storedResultBytes(r) > 0) await deps.videoBytes.release(r.tenantId, due.taskId);
        await deps.expiry.done(due.key);
        deleted++;
      } catch (err) {
        failed = true;
        deps.log.warn({ err, task_id: due.taskId }, "could not delete an expired result; next sweep retries");
      }
    }
    // Entries of this hour that are not due yet are looked at again next time; a failed one keeps its hour.
    if (!failed) await deps.expiry.setCursor(thisHour);
    if (deleted > 0) deps.log.info({ deleted }, "expired results deleted");
    return deleted;
  };
}
