import { isTerminal, type Logger, type TaskStore } from "@t2v/common";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Dispatcher } from "./dispatcher.js";
import type { SchedulerState } from "./state.js";

/**
 * A new leader rebuilds its queues from the task records, the durable truth,
 * and re-publishes jobs that a crashed leader may have recorded as dispatched
 * without publishing (the message id makes a duplicate a no-op).
 */
export async function rebuildState(
  tasks: TaskStore,
  state: SchedulerState,
  dispatcher: Dispatcher,
  log: Logger,
): Promise<void> {
  const started = Date.now();
  let active = 0;
  for (const id of await tasks.ids()) {
    const r = (await tasks.get(id))?.record;
    const t = r?.task;
    if (!r || !t || isTerminal(t.status)) continue;
    active++;
    state.track(r);
    if (t.status === TaskStatus.QUEUED && r.dispatchedAttempt === t.attempt && r.dispatchedGroup !== "") {
      await dispatcher.publishJob(r, r.dispatchedGroup);
    }
  }
  log.info({ active, ms: Date.now() - started }, "state rebuilt from task records");
}
