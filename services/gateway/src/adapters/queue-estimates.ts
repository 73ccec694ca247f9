import { create } from "@bufbuild/protobuf";
import { keyedBatch, MAX_ESTIMATE_IDS, type QueueEstimates } from "@t2v/common/channels";
import {
  type ArrivingTask,
  ArrivingTaskSchema,
  type QueueEstimate,
  TaskSizeSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Estimator = (tasks: Task[]) => Promise<void>;

/**
 * Asks where a task just created (its record written, its submission being
 * published) will stand: the scheduler answers from its queue as if the task
 * were filed now, or where it stands if its submission came first.
 * Undefined when no answer came in time.
 */
export type Projector = (task: Task, tenantId: string) => Promise<QueueEstimate | undefined>;

/** The scheduler's answer is a nicety; this is all the time a call waits for it. */
export const ESTIMATE_TIMEOUT_MS = 250;

interface Ask {
  task: Task;
  arriving?: ArrivingTask;
}

/**
 * Queue estimates from the scheduler: `estimate` fills queue_position, the
 * ETAs and (until the scheduler writes it at dispatch) estimated_gpu_seconds
 * of queued tasks, `project` answers for tasks just created. When the
 * scheduler is slow or away, nothing is filled and the call goes on. The
 * calls that come while a request is out (a burst of CreateTasks) share the
 * next one, up to MAX_ESTIMATE_IDS tasks: one request per batch, not one per
 * call in a row; each call waits at most `timeoutMs`.
 */
export function createQueueEstimates(
  estimates: QueueEstimates,
  timeoutMs = ESTIMATE_TIMEOUT_MS,
  onWait?: (seconds: number) => void,
): { estimate: Estimator; project: Projector } {
  const batch = keyedBatch<Ask, QueueEstimate | undefined>(async (_, asks) => {
    const answer = await estimates.request(
      asks.filter((a) => !a.arriving).map((a) => a.task.taskId),
      timeoutMs,
      asks.filter((a) => a.task.estimatedGpuSeconds === 0 && a.task.params).map((a) => sizeOf(a.task)),
      asks.flatMap((a) => (a.arriving ? [a.arriving] : [])),
    );
    const byId = new Map(answer.map((e) => [e.taskId, e]));
    return asks.map((a) => byId.get(a.task.taskId));
  }, MAX_ESTIMATE_IDS);

  /** The answers for `asks`, or undefined each once `timeoutMs` passed (a call waits for its own request only). */
  async function ask(asks: Ask[]): Promise<(QueueEstimate | undefined)[]> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      const found = await Promise.race([Promise.all(asks.map((a) => batch("", a).catch(() => undefined))), late]);
      return found ?? asks.map(() => undefined);
    } finally {
      clearTimeout(timer);
      onWait?.((performance.now() - started) / 1000);
    }
  }

  return {
    async estimate(tasks) {
      const queued = tasks.filter((t) => t.status === TaskStatus.QUEUED);
      if (queued.length === 0) return;
      const found = await ask(queued.map((task) => ({ task })));
      queued.forEach((t, i) => {
        const e = found[i];
        if (e) applyEstimate(t, e);
      });
    },
    async project(task, tenantId) {
      const arriving = create(ArrivingTaskSchema, {
        taskId: task.taskId,
        tenantId,
        pool: task.tier,
        priority: task.priority,
      });
      const [found] = await ask([{ task, arriving }]);
      return found;
    },
  };
}

/** Copies the scheduler's estimate onto the task (queue position and ETAs only while it is queued, or arriving). */
export function applyEstimate(t: Task, e: QueueEstimate): void {
  if (t.estimatedGpuSeconds === 0) t.estimatedGpuSeconds = e.estimatedGpuSeconds;
  if (!e.queued && !e.projected) return;
  t.queuePosition = e.position;
  t.estimatedStartTime = e.estimatedStartTime;
  t.estimatedFinishTime = e.estimatedFinishTime;
}

/**
 * Copies a pushed estimate onto a watched task: as `applyEstimate`, and a task
 * the scheduler no longer holds queued (dispatched, paused) shows no position.
 */
export function applyWatchedEstimate(t: Task, e: QueueEstimate): void {
  applyEstimate(t, e);
  if (e.queued || e.projected) return;
  t.queuePosition = 0;
  t.estimatedStartTime = undefined;
  t.estimatedFinishTime = undefined;
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
