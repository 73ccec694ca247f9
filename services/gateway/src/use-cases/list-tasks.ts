import type { TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTaskId } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";
import { decodePageToken, filteredPage, type Page } from "../domain/page-token.js";
import { invalidArgument } from "../domain/rpc-errors.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ListTasksQuery {
  /** 0: the default size. */
  pageSize: number;
  /** "" for the first page. */
  pageToken: string;
  /** UNSPECIFIED: every status. */
  status: TaskStatus;
}

export type ListTasks = (caller: Caller, query: ListTasksQuery) => Promise<Page<TaskRecord>>;

/** The caller's tasks, newest first, from the tenant index, filtered by status. */
export function listTasksUseCase(tasks: TaskStore): ListTasks {
  return async (caller, q) => {
    const size = Math.min(q.pageSize === 0 ? DEFAULT_PAGE_SIZE : q.pageSize, MAX_PAGE_SIZE);
    const after = q.pageToken === "" ? null : decodePageToken(q.pageToken);
    if (q.pageToken !== "" && (after === null || !isTaskId(after)))
      throw invalidArgument([{ field: "page_token", description: "is not a token from a previous response" }]);
    return filteredPage(
      await tasks.idsOf(caller.tenantId),
      size,
      after,
      async (id) => (await tasks.get(id))?.record ?? null,
      (r) => r.tenantId === caller.tenantId && (q.status === TaskStatus.UNSPECIFIED || r.task?.status === q.status),
    );
  };
}
