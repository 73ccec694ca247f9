import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type QueueEstimate, QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { estimateWait } from "./estimate-wait.js";
import { queuePosition } from "./pick-next.js";
import type { SchedulerState } from "./state.js";
import type { WorkerGroup } from "./worker-group.js";

/**
 * Where a queued task stands and when it should start and finish. Its
 * position is counted in the widest group serving its pool (the one that will
 * most likely run it); the wait drains through every live worker of the
 * groups that serve the pool. Undefined when the task is not queued. Pure.
 */
export function estimateTask(
  state: SchedulerState,
  groups: readonly WorkerGroup[],
  taskId: string,
  now: number,
  defaultRunSeconds: number,
): QueueEstimate | undefined {
  const pool = state.poolOf(taskId);
  if (pool === undefined) return undefined;
  const serving = groups.filter((g) => g.pools.includes(pool));
  const widest = serving.reduce<WorkerGroup | undefined>((a, g) => (!a || g.workers > a.workers ? g : a), undefined);
  const position = queuePosition(state.queues, widest?.pools ?? [pool], pool, taskId);
  if (position === undefined) return undefined;
  const pools = [...new Set(serving.flatMap((g) => g.pools))];
  const wait = estimateWait(
    position,
    {
      workers: serving.reduce((n, g) => n + g.workers, 0),
      running: state.runningIn(pools),
      meanRunSeconds: state.meanRunSecondsOf(pool) ?? defaultRunSeconds,
    },
    now,
  );
  return create(QueueEstimateSchema, {
    taskId,
    position,
    queued: true,
    ...(wait
      ? { estimatedStartTime: timestampFromMs(wait.startMs), estimatedFinishTime: timestampFromMs(wait.finishMs) }
      : {}),
  });
}
