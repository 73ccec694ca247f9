import type { TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal } from "@t2v/common/task";
import { mayRepublish } from "../domain/reconcile-task.js";
import type { SchedulerState } from "../domain/state.js";

export interface RebuildDeps {
  tasks: TaskStore;
  state: SchedulerState;
  /** Publishes a record's GenerateJob again (same message id). */
  republish: (r: TaskRecord, group: string) => Promise<void>;
  log: Logger;
  now: () => number;
  /** JetStream's duplicate window on the generate stream: only younger dispatches are published again. */
  duplicateWindowMs: number;
}

/**
 * A new leader rebuilds its queues from the task records, the durable truth,
 * and re-publishes jobs that a crashed leader may have recorded as dispatched
 * without publishing, inside the duplicate window only (the message id makes
 * a duplicate a no-op; older ones are the reconciler's hand-off timeout's).
 */
export async function rebuildState(deps: RebuildDeps): Promise<void> {
  const started = deps.now();
  let active = 0;
  for (const id of await deps.tasks.ids()) {
    const r = (await deps.tasks.get(id))?.record;
    const t = r?.task;
    if (!r || !t || isTerminal(t.status)) continue;
    active++;
    deps.state.track(r, deps.now());
    if (mayRepublish(r, deps.now(), deps)) await deps.republish(r, r.dispatchedGroup);
  }
  deps.log.info({ active, ms: deps.now() - started }, "state rebuilt from task records");
}
