import type { StoredTask, TaskStore } from "@t2v/common/channels";
import { isTaskId } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";
import { notFound } from "../domain/rpc-errors.js";

export type GetTaskForCaller = (caller: Caller, taskId: string) => Promise<StoredTask>;

/**
 * The caller's own task, for every protocol (RPC, REST, downloads). NOT_FOUND
 * for malformed, missing and other tenants' ids alike: nothing tells them apart.
 */
export function createGetTaskForCaller(tasks: TaskStore): GetTaskForCaller {
  return async (caller, taskId) => {
    const found = await findOwnTask(tasks, caller.tenantId, taskId);
    if (!found) throw notFound(`task ${taskId}`);
    return found;
  };
}

/** The task when it exists and `tenantId` owns it (any tenant when null); null otherwise. */
export async function findOwnTask(
  tasks: TaskStore,
  tenantId: string | null,
  taskId: string,
): Promise<StoredTask | null> {
  const found = isTaskId(taskId) ? await tasks.get(taskId) : null;
  return found && (tenantId === null || found.record.tenantId === tenantId) ? found : null;
}
