import { clone } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState, type Task, TaskSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { expireUnix, type RetentionPolicy, resultStateAt } from "./result-retention.js";
import { tenantError } from "./tenant-error.js";

/** A download link dies with the stored video at the latest. */
export function linkTtlSeconds(resultUrlTtlSeconds: number, videoTtlHours: number): number {
  return Math.min(resultUrlTtlSeconds, videoTtlHours * 3600);
}

/** Links of a completed task's result, minted by a `ResultLinks` adapter. */
export interface TaskLinks {
  resultUrl: string;
  /** Empty when the task has no poster. */
  posterUrl: string;
  /** When both stop working (unix seconds). */
  expireUnix: number;
}

export interface ViewContext {
  nowUnix: number;
  retention: RetentionPolicy;
  /** Present only while the result is available (`resultStateAt`). */
  links?: TaskLinks;
}

/**
 * The public view of a record: the task with its expire time and result state, and links once it is
 * completed and its result still available. Expired and deleted results read with empty links,
 * never with a link that would fail. The failure reads as `tenantError` allows: never a worker's own words.
 */
export function publicTask(record: TaskRecord, ctx: ViewContext): Task {
  const task = record.task ? clone(TaskSchema, record.task) : undefined;
  if (!task) throw new Error("task record without task");
  const shown = tenantError(task.errorCode, task.errorMessage);
  task.errorCode = shown.code;
  task.errorMessage = shown.message;
  const exp = expireUnix(record, ctx.retention);
  if (exp !== null) task.expireTime = timestampFromMs(exp * 1000);
  task.resultState = resultStateAt(record, ctx.nowUnix, ctx.retention);
  task.resultUrl = "";
  task.posterUrl = "";
  task.resultExpireTime = undefined;
  if (task.resultState === ResultState.AVAILABLE && ctx.links) {
    task.resultUrl = ctx.links.resultUrl;
    task.posterUrl = ctx.links.posterUrl;
    task.resultExpireTime = timestampFromMs(ctx.links.expireUnix * 1000);
  }
  return task;
}
