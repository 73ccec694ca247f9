import { clone } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { signedPath } from "../http/signed-url.js";

export interface DownloadLinks {
  baseUrl: string;
  secret: Uint8Array;
  /** Seconds a link works after the task finished (already capped by the video TTL). */
  ttlSeconds: number;
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
    const base = links.baseUrl.replace(/\/$/, "");
    task.resultUrl = `${base}${signedPath(links.secret, `${task.taskId}.mp4`, exp)}`;
    if (record.posterObject !== "") task.posterUrl = `${base}${signedPath(links.secret, `${task.taskId}.jpg`, exp)}`;
    task.resultExpireTime = timestampFromMs(exp * 1000);
  }
  return task;
}
