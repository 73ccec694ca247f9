import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type ArrivingTask,
  type QueueEstimate,
  QueueEstimateSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { estimateWait } from "./estimate-wait.js";
import { arrivingPosition, queuePosition } from "./pick-next.js";
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
  const position = queuePosition(state.queues, widestPools(groups, pool), pool, taskId);
  if (position === undefined) return undefined;
  return create(QueueEstimateSchema, {
    taskId,
    position,
    queued: true,
    ...times(state, groups, pool, position, now, defaultRunSeconds),
  });
}

/** A task just created and not filed here yet: where it would stand, and when it would start, if it were filed now. Pure. */
export function estimateArriving(
  state: SchedulerState,
  groups: readonly WorkerGroup[],
  arriving: ArrivingTask,
  now: number,
  defaultRunSeconds: number,
): QueueEstimate {
  const position = arrivingPosition(state.queues, widestPools(groups, arriving.pool), arriving);
  return create(QueueEstimateSchema, {
    taskId: arriving.taskId,
    position,
    projected: true,
    ...times(state, groups, arriving.pool, position, now, defaultRunSeconds),
  });
}

/** The pools of the widest group serving `pool`, in its order: the group that will most likely run the task. */
function widestPools(groups: readonly WorkerGroup[], pool: string): readonly string[] {
  const widest = groups
    .filter((g) => g.pools.includes(pool))
    .reduce<WorkerGroup | undefined>((a, g) => (!a || g.workers > a.workers ? g : a), undefined);
  return widest?.pools ?? [pool];
}

function times(
  state: SchedulerState,
  groups: readonly WorkerGroup[],
  pool: string,
  position: number,
  now: number,
  defaultRunSeconds: number,
) {
  const serving = groups.filter((g) => g.pools.includes(pool));
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
  return wait
    ? { estimatedStartTime: timestampFromMs(wait.startMs), estimatedFinishTime: timestampFromMs(wait.finishMs) }
    : {};
}
