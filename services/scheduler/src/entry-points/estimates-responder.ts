import type { QueueEstimates, Unsubscribe } from "@t2v/common/channels";
import { estimateTask } from "../domain/estimate-task.js";
import type { SchedulerState } from "../domain/state.js";
import type { WorkerGroup } from "../domain/worker-group.js";

export interface EstimatesDeps {
  state: SchedulerState;
  groups: () => readonly WorkerGroup[];
  /** Run time assumed until one is measured. */
  defaultRunSeconds: number;
  now: () => number;
}

/** Answers the gateways where queued tasks stand and when they should start and finish; unknown ids are left out. */
export function answerEstimates(queueEstimates: Pick<QueueEstimates, "answer">, deps: EstimatesDeps): Unsubscribe {
  return queueEstimates.answer((taskIds) => {
    const now = deps.now();
    const groups = deps.groups();
    return taskIds.flatMap((id) => estimateTask(deps.state, groups, id, now, deps.defaultRunSeconds) ?? []);
  });
}
