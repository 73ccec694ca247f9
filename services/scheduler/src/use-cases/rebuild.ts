import type { BlobStore, TaskStore, UsageLedger, VideoBytes } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal } from "@t2v/common/task";
import { mayRepublish } from "../domain/reconcile-task.js";
import type { SchedulerState } from "../domain/state.js";
import { settleEnded } from "./record-usage.js";

export interface RebuildDeps {
  tasks: TaskStore;
  usage: Pick<UsageLedger, "record">;
  videoBytes: Pick<VideoBytes, "count">;
  /** Where an ended task's latents are deleted when it is settled. */
  latents: Pick<BlobStore, "delete">;
  state: SchedulerState;
  /** Publishes a record's GenerateJob again (same message id). */
  republish: (r: TaskRecord, group: string) => Promise<void>;
  log: Logger;
  now: () => number;
  /** JetStream's duplicate window on the generate stream: only younger dispatches are published again. */
  duplicateWindowMs: number;
}

/**
 * A new leader rebuilds its queues from the records of the active tasks (the
 * active index: O(active tasks), not O(every record kept)), settles those that
 * ended meanwhile, and re-publishes jobs that a crashed leader may have
 * recorded as dispatched without publishing, inside the duplicate window only
 * (the message id makes a duplicate a no-op; older ones are the reconciler's
 * hand-off timeout's). The first leader of a cluster whose records predate the
 * index seeds it from every record, once.
 */
export async function rebuildState(deps: RebuildDeps): Promise<void> {
  const started = deps.now();
  const seeding = !(await deps.tasks.activeSeeded());
  const ids = seeding ? await deps.tasks.ids() : await deps.tasks.activeIds();
  let active = 0;
  let settled = 0;
  // An index entry whose record is gone (deleted, expired) or not written yet (a create that
  // failed half-way leaves no record) is not read: the sweep settles it if it stays so.
  for await (const { record: r } of deps.tasks.readMany(ids)) {
    const t = r.task;
    if (!t) continue;
    if (isTerminal(t.status)) {
      if (!seeding && (await settleEnded(deps, r))) settled++;
      continue;
    }
    if (seeding) await deps.tasks.markActive(t.taskId);
    active++;
    deps.state.track(r, deps.now());
    if (mayRepublish(r, deps.now(), deps)) await deps.republish(r, r.dispatchedGroup);
  }
  // Refreshed every term, so the marker never expires under a running cluster.
  await deps.tasks.seeded();
  deps.log.info(
    { active, settled, read: ids.length, seeded: seeding, ms: deps.now() - started },
    "state rebuilt from task records",
  );
}
