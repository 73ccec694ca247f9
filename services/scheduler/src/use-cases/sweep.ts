import type { BlobStore, TaskStore, UsageLedger, VideoBytes } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { isTerminal, taskIdTime } from "@t2v/common/task";
import type { SchedulerState } from "../domain/state.js";
import { settleEnded } from "./record-usage.js";

export interface SweeperDeps {
  tasks: TaskStore;
  usage: Pick<UsageLedger, "record">;
  videoBytes: Pick<VideoBytes, "count">;
  /** Where an ended task's latents are deleted when it is settled. */
  latents: Pick<BlobStore, "delete">;
  state: SchedulerState;
  log: Logger;
  now: () => number;
  requestDispatch: () => void;
  /**
   * A task not ended that this leader does not know is taken for one whose submission was lost
   * only this long after its id was made: younger, its submission is most likely still on its
   * way (it arrives within milliseconds), and filing it early would race the submission consumer.
   */
  lostAfterMs: number;
}

/**
 * An active-index entry with no record this long after its id was made is a create that
 * failed between the index and the record (or a record deleted or expired since): dropped.
 * Younger, the record may still be on its way.
 */
const ORPHAN_AFTER_MS = 60 * 60_000;

/**
 * The backstop, over the active index (O(active tasks), whatever their age):
 * - a task this leader does not know that has not ended lost its submission
 *   (nats-server 2.9 acknowledges a publish before its file store has written
 *   it, so a kill right after an acknowledged submission can lose the message
 *   while the record survives): it is filed and dispatched;
 * - a task that ended but is still in the index was not settled: a completed
 *   one whose usage write failed is billed now (once), then it leaves the index.
 */
export function createSweeper(deps: SweeperDeps) {
  return async function sweep(now = deps.now()): Promise<void> {
    let found = 0;
    for (const id of await deps.tasks.activeIds()) {
      if (deps.state.knows(id)) continue;
      const r = (await deps.tasks.get(id))?.record;
      if (!r?.task) {
        if (now - taskIdTime(id) > ORPHAN_AFTER_MS) await deps.tasks.settled(id);
        continue;
      }
      if (isTerminal(r.task.status)) {
        if (await settleEnded(deps, r))
          deps.log.info({ task_id: id }, "settled an ended task left in the active index");
        continue;
      }
      if (now - taskIdTime(id) < deps.lostAfterMs) continue;
      deps.state.track(r, now);
      found++;
      deps.log.warn({ task_id: id }, "picked up a task whose submission never arrived");
    }
    if (found > 0) deps.requestDispatch();
  };
}
