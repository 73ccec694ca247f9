import type { TaskControls, Unsubscribe } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";

/**
 * A task the gateway paused, resumed or reprioritised is re-read and filed
 * again: a paused one leaves the queue, a resumed one rejoins its tenant's
 * queue at its place, a new priority re-sorts that queue. The record was
 * written first; a broadcast this term missed is caught up by the sweep
 * (a resumed task) or the next dispatch (which re-reads every record).
 */
export function subscribeTaskControls(
  taskControls: Pick<TaskControls, "subscribe">,
  refile: (taskId: string) => Promise<void>,
  log: Logger,
): Unsubscribe {
  return taskControls.subscribe(({ taskId, kind }) => {
    // "yield" is this scheduler's own word to a worker.
    if (kind === "yield") return;
    refile(taskId).catch((err: unknown) => log.warn({ err, task_id: taskId, control: kind }, "task not re-filed"));
  });
}
