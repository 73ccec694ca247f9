import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { type RetentionPolicy, resultExpireUnix } from "@t2v/common/task";

/** SigV4 presigned links live at most this long (S3 refuses more). */
export const MAX_LINK_SECONDS = 7 * 24 * 3600;

export type { RetentionPolicy } from "@t2v/common/task";

/** When a finished task's result goes (unix seconds); null while it runs. */
export const expireUnix = resultExpireUnix;

/**
 * What became of the result at `nowUnix`: unspecified until COMPLETED with a video; DELETED once
 * DeleteTask ran (recorded); EXPIRED past the expire time; AVAILABLE otherwise.
 */
export function resultStateAt(record: TaskRecord, nowUnix: number, policy: RetentionPolicy): ResultState {
  const task = record.task;
  if (task?.resultState === ResultState.DELETED) return ResultState.DELETED;
  if (task?.status !== TaskStatus.COMPLETED || record.videoObject === "") return ResultState.UNSPECIFIED;
  const exp = expireUnix(record, policy);
  return exp !== null && nowUnix >= exp ? ResultState.EXPIRED : ResultState.AVAILABLE;
}

/**
 * How long a link minted now lives: RESULT_URL_TTL_SECONDS, never past the result's expiry, and at most
 * 7 days (the SigV4 limit). At least 1 s while the result is available.
 */
export function linkSecondsAt(nowUnix: number, expire: number, ttlSeconds: number): number {
  return Math.max(1, Math.min(ttlSeconds, expire - nowUnix, MAX_LINK_SECONDS));
}
