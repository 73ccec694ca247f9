import { isTerminal, type Logger, type TaskStore, taskIdTime } from "@t2v/common";
import type { SchedulerState } from "./state.js";

/**
 * The backstop against a lost submission: nats-server 2.9 acknowledges a
 * publish before its file store has written it, so a kill right after an
 * acknowledged submission can lose the message while the task record
 * survives. Every so often, look at recent task ids this leader does not
 * know and file any that have not ended. Ended ones are remembered so that
 * each is read once.
 */
export function createSweeper(deps: {
  tasks: TaskStore;
  state: SchedulerState;
  windowMs: number;
  log: Logger;
  kick: () => void;
}) {
  const ended = new Set<string>();
  const known = (id: string): boolean =>
    deps.state.inFlight.has(id) || [...deps.state.queues.values()].some((q) => q.has(id));

  return async function sweep(now = Date.now()): Promise<void> {
    const since = now - deps.windowMs;
    for (const id of ended) if (taskIdTime(id) < since) ended.delete(id);
    let found = 0;
    for (const id of await deps.tasks.ids()) {
      if (taskIdTime(id) < since || ended.has(id) || known(id)) continue;
      const r = (await deps.tasks.get(id))?.record;
      if (!r?.task) continue;
      if (isTerminal(r.task.status)) {
        ended.add(id);
        continue;
      }
      deps.state.track(r);
      found++;
      deps.log.warn({ task_id: id }, "picked up a task whose submission never arrived");
    }
    if (found > 0) deps.kick();
  };
}
