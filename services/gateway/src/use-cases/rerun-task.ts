import type { RerunOverrides } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Caller } from "../domain/caller.js";
import { rerunRequest } from "../domain/rerun-request.js";
import type { CreatedTask, CreateTask } from "./create-task.js";
import type { GetTaskForCaller } from "./get-task-for-caller.js";

export type RerunTask = (caller: Caller, taskId: string, overrides: RerunOverrides | undefined) => Promise<CreatedTask>;

/**
 * A new task from one of the caller's tasks (owner only: another tenant's id
 * is NOT_FOUND, as everywhere), in any state: its request with the overrides,
 * through the same validation, admission and queueing as CreateTask. The new
 * task's rerun_of names the origin.
 */
export function rerunTaskUseCase(deps: { getTask: GetTaskForCaller; createTask: CreateTask }): RerunTask {
  return async (caller, taskId, overrides) => {
    const origin = (await deps.getTask(caller, taskId)).record;
    const { request, steps } = rerunRequest(origin, overrides);
    return deps.createTask(caller, request, { rerunOf: taskId, ...(steps > 0 ? { steps } : {}) });
  };
}
