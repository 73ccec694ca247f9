import type { QueueEstimates } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Estimator = (tasks: Task[]) => Promise<void>;

/** The scheduler's answer is a nicety; this is all the time a call waits for it. */
export const ESTIMATE_TIMEOUT_MS = 250;

/**
 * Fills queue_position and the ETAs of queued tasks from the scheduler. When
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
      );
    } catch {
      return;
    }
    const byId = new Map(answer.map((e) => [e.taskId, e]));
    for (const t of queued) {
      const e = byId.get(t.taskId);
      if (!e) continue;
      t.queuePosition = e.position;
      t.estimatedStartTime = e.estimatedStartTime;
      t.estimatedFinishTime = e.estimatedFinishTime;
    }
  };
}
