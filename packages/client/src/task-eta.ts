import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

/**
 * Seconds until the task should finish, or undefined when nothing is known.
 * Queued: the scheduler's estimate. Running: extrapolated from the progress
 * made since it started (denoising steps take about the same time each).
 */
export function remainingSeconds(task: Task, nowMs: number = Date.now()): number | undefined {
  if (task.status === TaskStatus.QUEUED) {
    return task.estimatedFinishTime ? Math.max(0, (timestampMs(task.estimatedFinishTime) - nowMs) / 1000) : undefined;
  }
  if (task.status !== TaskStatus.PROCESSING && task.status !== TaskStatus.ENCODING) return undefined;
  if (!task.startTime || task.progress <= 0.02) return undefined;
  const elapsed = (nowMs - timestampMs(task.startTime)) / 1000;
  return Math.max(0, (elapsed / task.progress) * (1 - task.progress));
}

/** "1:05", "12s", or "" when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
