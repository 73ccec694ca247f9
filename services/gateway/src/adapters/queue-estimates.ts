import { create } from "@bufbuild/protobuf";
import type { QueueEstimates } from "@t2v/common/channels";
import { type QueueEstimate, TaskSizeSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Estimator = (tasks: Task[]) => Promise<void>;

/** The scheduler's answer is a nicety; this is all the time a call waits for it. */
export const ESTIMATE_TIMEOUT_MS = 250;

/**
 * Fills queue_position, the ETAs and (until the scheduler writes it at
 * dispatch) estimated_gpu_seconds of queued tasks from the scheduler. When
 * the scheduler is slow or away, the fields stay unset and the call goes on.
 */
export function createEstimator(estimates: QueueEstimates, timeoutMs = ESTIMATE_TIMEOUT_MS): Estimator {
  return async (tasks) => {
    const queued = tasks.filter((t) => t.status === TaskStatus.QUEUED);
    if (queued.length === 0) return;
    let answer: QueueEstimate[];
    try {
      answer = await estimates.request(
        queued.map((t) => t.taskId),
        timeoutMs,
        queued.filter((t) => t.estimatedGpuSeconds === 0 && t.params).map(sizeOf),
      );
    } catch {
      return;
    }
    const byId = new Map(answer.map((e) => [e.taskId, e]));
    for (const t of queued) {
      const e = byId.get(t.taskId);
      if (e) applyEstimate(t, e);
    }
  };
}

/** Copies the scheduler's estimate onto the task (queue position and ETAs only while it is queued). */
export function applyEstimate(t: Task, e: QueueEstimate): void {
  if (t.estimatedGpuSeconds === 0) t.estimatedGpuSeconds = e.estimatedGpuSeconds;
  if (!e.queued) return;
  t.queuePosition = e.position;
  t.estimatedStartTime = e.estimatedStartTime;
  t.estimatedFinishTime = e.estimatedFinishTime;
}

/** What the scheduler needs to estimate a task's accelerator seconds. */
export function sizeOf(t: Task) {
  const p = t.params;
  return create(TaskSizeSchema, {
    taskId: t.taskId,
    pool: t.tier,
    width: p?.width ?? 0,
    height: p?.height ?? 0,
    numFrames: p?.numFrames ?? 0,
    steps: p?.steps ?? 0,
    draft: p?.draft ?? false,
  });
}
