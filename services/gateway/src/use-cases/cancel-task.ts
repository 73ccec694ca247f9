import type { Cancellations, TaskChanges, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { endTask } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";
import { GatewayErrorCode } from "../domain/error-codes.js";
import type { GetTaskForCaller } from "./get-task-for-caller.js";

export interface CancelTaskDeps {
  tasks: TaskStore;
  getTask: GetTaskForCaller;
  cancellations: Cancellations;
  taskChanges: TaskChanges;
  log: Logger;
}

export type CancelTask = (caller: Caller, taskId: string) => Promise<TaskRecord>;

/**
 * Cancels the caller's task: the record says CANCELLED first (workers check
 * it between stages), then a broadcast stops running work at once, then the
 * change goes to webhook listeners. A task that has already ended is
 * returned as it is.
 */
export function cancelTaskUseCase(deps: CancelTaskDeps): CancelTask {
  const { tasks, log } = deps;
  return async (caller, taskId) => {
    const current = await deps.getTask(caller, taskId);
    const updated = await tasks.update(taskId, (r) =>
      endTask(r, TaskStatus.CANCELLED, {
        errorCode: GatewayErrorCode.cancelledByUser,
        errorMessage: "cancelled by its owner",
      }),
    );
    if (!updated) return (await tasks.get(taskId))?.record ?? current.record;
    deps.cancellations.broadcast(taskId);
    try {
      await deps.taskChanges.publish(updated.record);
    } catch (err) {
      // The cancel stands; only its webhook is lost.
      log.warn({ err, task_id: taskId }, "could not publish the cancel notification");
    }
    log.info({ task_id: taskId }, "task cancelled");
    return updated.record;
  };
}
