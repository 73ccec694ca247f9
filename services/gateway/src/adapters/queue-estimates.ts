import { create } from "@bufbuild/protobuf";
import { keyedBatch, MAX_ESTIMATE_IDS, type QueueEstimates } from "@t2v/common/channels";
import { type QueueEstimate, TaskSizeSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Estimator = (tasks: Task[]) => Promise<void>;

/** The scheduler's answer is a nicety; this is all the time a call waits for it. */
export const ESTIMATE_TIMEOUT_MS = 250;

/**
 * Fills queue_position, the ETAs and (until the scheduler writes it at
 * dispatch) estimated_gpu_seconds of queued tasks from the scheduler. When
 * the scheduler is slow or away, the fields stay unset and the call goes on.
 * The calls that come while a request is out (a burst of CreateTasks) share
 * the next one, up to MAX_ESTIMATE_IDS tasks: one request per batch, not one
 * per call in a row.
 */
export function createEstimator(
  estimates: QueueEstimates,
  timeoutMs = ESTIMATE_TIMEOUT_MS,
  onWait?: (seconds: number) => void,
): Estimator {
  const ask = keyedBatch<Task, QueueEstimate | undefined>(async (_, tasks) => {
    const answer = await estimates.request(
      tasks.map((t) => t.taskId),
      timeoutMs,
      tasks.filter((t) => t.estimatedGpuSeconds === 0 && t.params).map(sizeOf),
    );
    const byId = new Map(answer.map((e) => [e.taskId, e]));
    return tasks.map((t) => byId.get(t.taskId));
  }, MAX_ESTIMATE_IDS);
  return async (tasks) => {
    const queued = tasks.filter((t) => t.status === TaskStatus.QUEUED);
    if (queued.length === 0) return;
    // A call waits for its own request only, not for the one out before it too.
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const found = await Promise.race([Promise.all(queued.map((t) => ask("", t).catch(() => undefined))), late]);
      queued.forEach((t, i) => {
        const e = found?.[i];
        if (e) applyEstimate(t, e);
      });
    } finally {
      clearTimeout(timer);
      onWait?.((performance.now() - started) / 1000);
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
