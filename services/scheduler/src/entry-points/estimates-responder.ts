import { create } from "@bufbuild/protobuf";
import type { QueueEstimates, Unsubscribe } from "@t2v/common/channels";
import { type QueueEstimate, QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { estimateArriving, estimateTask } from "../domain/estimate-task.js";
import type { SchedulerState } from "../domain/state.js";
import type { WorkerGroup } from "../domain/worker-group.js";
import type { TermFence } from "../use-cases/leadership.js";

export interface EstimatesDeps {
  /** Whether this replica still leads (see TermFence). */
  fence: Pick<TermFence, "check">;
  state: SchedulerState;
  groups: () => readonly WorkerGroup[];
  /** Run time assumed until one is measured. */
  defaultRunSeconds: number;
  now: () => number;
}

/**
 * Answers the gateways where queued tasks stand and when they should start
 * and finish (unknown ids are left out), where arriving tasks not filed yet
 * will stand, and the accelerator seconds of every task whose size was sent,
 * queued here yet or not.
 */
export function answerEstimates(queueEstimates: Pick<QueueEstimates, "answer">, deps: EstimatesDeps): Unsubscribe {
  return queueEstimates.answer((taskIds, sizes, arriving) => {
    // A replica stopped past its lease answers nothing rather than from a stale queue.
    deps.fence.check();
    const now = deps.now();
    const groups = deps.groups();
    const byId = new Map<string, QueueEstimate>();
    for (const id of taskIds) {
      const e = estimateTask(deps.state, groups, id, now, deps.defaultRunSeconds);
      if (e) byId.set(id, e);
    }
    for (const a of arriving) {
      // Filed already (its submission came first): where it stands; dispatched already: nothing.
      const e = deps.state.knows(a.taskId)
        ? estimateTask(deps.state, groups, a.taskId, now, deps.defaultRunSeconds)
        : estimateArriving(deps.state, groups, a, now, deps.defaultRunSeconds);
      if (e) byId.set(a.taskId, e);
    }
    for (const size of sizes) {
      const e = byId.get(size.taskId) ?? create(QueueEstimateSchema, { taskId: size.taskId });
      e.estimatedGpuSeconds = deps.state.estimateGpuSecondsOf(size.pool, size, deps.defaultRunSeconds);
      byId.set(size.taskId, e);
    }
    return [...byId.values()];
  });
}
