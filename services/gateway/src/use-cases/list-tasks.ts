import { TASK_LIST_RETENTION_DAYS, type TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Caller } from "../domain/caller.js";
import { decodePageToken, encodePageToken, type Page } from "../domain/page-token.js";
import { invalidArgument } from "../domain/rpc-errors.js";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Task-list slots one call may read per task asked for; past that the page comes back short, with a token. */
export const SLOTS_PER_TASK = 4;

const DAY_MS = 86_400_000;

export interface ListTasksQuery {
  /** 0: the default size. */
  pageSize: number;
  /** "" for the first page. */
  pageToken: string;
  /** UNSPECIFIED: every status. */
  status: TaskStatus;
}

export type ListTasks = (caller: Caller, query: ListTasksQuery) => Promise<Page<TaskRecord>>;

export interface ListTasksDeps {
  tasks: TaskStore;
  /** HMAC key of page tokens (pageTokenKey). */
  tokenKey: Uint8Array;
  now: () => number;
}

/**
 * The caller's tasks, newest first, a page at a time from the tenant's task
 * lists (one per status): each call reads at most SLOTS_PER_TASK x page_size
 * list entries and their records, whatever the tenant holds. A page may come
 * back short (even empty) with a next_page_token when most entries of a
 * status list belong to tasks that have moved on.
 */
export function listTasksUseCase(deps: ListTasksDeps): ListTasks {
  return async (caller, q) => {
    const size = Math.min(q.pageSize <= 0 ? DEFAULT_PAGE_SIZE : q.pageSize, MAX_PAGE_SIZE);
    const today = Math.floor(deps.now() / DAY_MS);
    const window = { status: q.status, minDay: today - TASK_LIST_RETENTION_DAYS - 1, maxDay: today + 1 };
    const from = q.pageToken === "" ? null : decodePageToken(deps.tokenKey, caller.tenantId, q.pageToken, window);
    if (q.pageToken !== "" && from === null)
      throw invalidArgument([
        {
          field: "page_token",
          description: "is not a token from a previous response to this caller with the same status filter",
        },
      ]);
    const page = await deps.tasks.page({
      tenantId: caller.tenantId,
      status: q.status,
      from,
      limit: size,
      maxSlots: size * SLOTS_PER_TASK,
    });
    return {
      items: page.tasks.map((t) => t.record),
      next: page.next ? encodePageToken(deps.tokenKey, caller.tenantId, { status: q.status, ...page.next }) : "",
    };
  };
}
