import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";

/**
 * What a task's own result holds in the videos store, counted against its
 * tenant's byte cap: a completed task's MP4 and poster. A result-cache hit
 * points at an earlier task's objects, counted when that one completed, so
 * it holds nothing of its own; a task that did not complete has no result.
 */
export function storedResultBytes(r: TaskRecord): number {
  const t = r.task;
  if (t?.status !== TaskStatus.COMPLETED || t.cacheHit || r.videoObject === "") return 0;
  return Number(r.videoSizeBytes + r.posterSizeBytes);
}
