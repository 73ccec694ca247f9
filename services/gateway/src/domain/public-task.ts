import { clone } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export interface DownloadLinks {
  /** Where clients reach this gateway (no trailing slash needed). */
  baseUrl: () => string;
  /** The signed path of `file` that works until `expUnix` (e.g. `signedPath` with the download secret). */
  sign: (file: string, expUnix: number) => string;
  /** Seconds a link works after the task finished (already capped by the video TTL: `linkTtlSeconds`). */
  ttlSeconds: number;
}

/** A download link dies with the stored video at the latest. */
export function linkTtlSeconds(resultUrlTtlSeconds: number, videoTtlHours: number): number {
  return Math.min(resultUrlTtlSeconds, videoTtlHours * 3600);
}

/**
 * The public view of a record: the task, with signed download links once it
 * is completed. The expiry counts from the finish time, so every read of the
 * task returns the same links, and they die with the stored video.
 */
export function publicTask(record: TaskRecord, links: DownloadLinks): Task {
  const task = record.task ? clone(TaskSchema, record.task) : undefined;
  if (!task) throw new Error("task record without task");
  if (task.status === TaskStatus.COMPLETED && record.videoObject !== "") {
    const finished = task.finishTime ?? task.updateTime;
    const exp = Number(finished?.seconds ?? 0n) + links.ttlSeconds;
    const base = links.baseUrl().replace(/\/$/, "");
    task.resultUrl = `${base}${links.sign(`${task.taskId}.mp4`, exp)}`;
    if (record.posterObject !== "") task.posterUrl = `${base}${links.sign(`${task.taskId}.jpg`, exp)}`;
    task.resultExpireTime = timestampFromMs(exp * 1000);
  }
  return task;
}
