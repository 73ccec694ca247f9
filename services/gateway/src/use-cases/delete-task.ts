import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { BlobStore, TaskChanges, TaskStore, VideoBytes } from "@t2v/common/channels";
import { latentObjectNames } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal, patchRecord, storedResultBytes } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";
import type { CancelTask } from "./cancel-task.js";
import type { GetTaskForCaller } from "./get-task-for-caller.js";

export interface DeleteTaskDeps {
  tasks: TaskStore;
  getTask: GetTaskForCaller;
  cancelTask: CancelTask;
  /** Removes the task's video and poster (`ResultStore.deleteTask`). */
  deleteResult: (taskId: string) => Promise<void>;
  /** Intermediates between denoise and decode (`<task>.<attempt>`). */
  latents: Pick<BlobStore, "delete">;
  /** The tenant's stored result bytes: a deleted result's are taken back (once), freeing its byte cap. */
  videoBytes: Pick<VideoBytes, "release">;
  /** Told when a tenant's stored bytes went down, so this replica's cached sum is read afresh. */
  onBytesReleased?: (tenantId: string) => void;
  taskChanges: TaskChanges;
  log: Logger;
  now: () => number;
}

export type DeleteTask = (caller: Caller, taskId: string) => Promise<TaskRecord>;

/**
 * Deletes the caller's task's video, poster and intermediates, then records it DELETED (links empty
 * from then on) and tells webhook listeners. A running task is cancelled first, so no worker writes a
 * result afterwards (and the inference worker drops its checkpoints on cancel). Objects go before the
 * record says DELETED: a failure half-way leaves a task that can be deleted again. Idempotent. The
 * result's bytes leave the tenant's count once the objects are gone (never while they may remain).
 */
export function deleteTaskUseCase(deps: DeleteTaskDeps): DeleteTask {
  const { tasks, log } = deps;
  return async (caller, taskId) => {
    let current = (await deps.getTask(caller, taskId)).record;
    if (current.task?.resultState === ResultState.DELETED) return current;
    if (!isTerminal(current.task?.status ?? 0)) current = await deps.cancelTask(caller, taskId);
    await Promise.all([
      deps.deleteResult(taskId),
      ...latentObjectNames(current).map((name) => deps.latents.delete(name)),
    ]);
    if (storedResultBytes(current) > 0) {
      try {
        if ((await deps.videoBytes.release(current.tenantId, taskId)) > 0) deps.onBytesReleased?.(current.tenantId);
      } catch (err) {
        // Counted too high, never too low: the bytes leave the tenant's count with their day instead.
        log.warn({ err, task_id: taskId }, "stored video bytes not taken back for a deleted result");
      }
    }
    const updated = await tasks.update(taskId, (r) =>
      r.task?.resultState === ResultState.DELETED
        ? null
        : patchRecord(r, { resultState: ResultState.DELETED, updateTime: timestampFromMs(deps.now()) }),
    );
    if (!updated) return (await tasks.get(taskId))?.record ?? current;
    try {
      await deps.taskChanges.publish(updated.record);
    } catch (err) {
      // The deletion stands; only its webhook is lost.
      log.warn({ err, task_id: taskId }, "could not publish the delete notification");
    }
    log.info({ task_id: taskId }, "task deleted");
    return updated.record;
  };
}
