import type { TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal } from "@t2v/common/task";
import type { SchedulerState } from "../domain/state.js";

export interface RebuildDeps {
  tasks: TaskStore;
  state: SchedulerState;
  /** Publishes a record's GenerateJob again (same message id). */
  republish: (r: TaskRecord, group: string) => Promise<void>;
  log: Logger;
  now: () => number;
}

/**
 * A new leader rebuilds its queues from the task records, the durable truth,
 * and re-publishes jobs that a crashed leader may have recorded as dispatched
 * without publishing (the message id makes a duplicate a no-op).
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
    if (t.status === TaskStatus.QUEUED && r.dispatchedAttempt === t.attempt && r.dispatchedGroup !== "") {
      await deps.republish(r, r.dispatchedGroup);
    }
  }
  deps.log.info({ active, ms: deps.now() - started }, "state rebuilt from task records");
}
