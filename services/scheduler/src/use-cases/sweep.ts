import type { TaskStore } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { isTerminal, taskIdTime } from "@t2v/common/task";
import type { SchedulerState } from "../domain/state.js";

export interface SweeperDeps {
  tasks: TaskStore;
  state: SchedulerState;
  /** How far back task ids are looked at. */
  windowMs: number;
  log: Logger;
  now: () => number;
  requestDispatch: () => void;
}

/**
 * The backstop against a lost submission: nats-server 2.9 acknowledges a
 * publish before its file store has written it, so a kill right after an
 * acknowledged submission can lose the message while the task record
 * survives. Every so often, look at recent task ids this leader does not
 * know and file any that have not ended. Ended ones are remembered so that
 * each is read once.
 */
export function createSweeper(deps: SweeperDeps) {
  const ended = new Set<string>();

  return async function sweep(now = deps.now()): Promise<void> {
    const since = now - deps.windowMs;
    for (const id of ended) if (taskIdTime(id) < since) ended.delete(id);
    let found = 0;
    for (const id of await deps.tasks.ids()) {
      if (taskIdTime(id) < since || ended.has(id) || deps.state.knows(id)) continue;
      const r = (await deps.tasks.get(id))?.record;
      if (!r?.task) continue;
      if (isTerminal(r.task.status)) {
        ended.add(id);
        continue;
      }
      deps.state.track(r, now);
      found++;
      deps.log.warn({ task_id: id }, "picked up a task whose submission never arrived");
    }
    if (found > 0) deps.requestDispatch();
  };
}
