import type { BlobStore, StoredTask, TaskStore, UsageLedger, VideoBytes } from "@t2v/common/channels";
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
  for await (const stored of readInOrder(deps.tasks, ids)) {
    const r = stored?.record;
    const t = r?.task;
    if (!r || !t) {
      // An index entry whose record is gone (deleted, expired) or not written yet (a create
      // that failed half-way leaves no record): the sweep settles it if it stays so.
      continue;
    }
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

/**
 * Records read this many at once: a new leader's 10,000 queued tasks took 4 s or more read one
 * after another (each get a round trip), and the standby dispatches nothing until they are in.
 */
const READ_AHEAD = 256;

/** The records of `ids` in their order (null where one is gone), the next batch read while one is handled. */
async function* readInOrder(tasks: Pick<TaskStore, "get">, ids: readonly string[]): AsyncGenerator<StoredTask | null> {
  const batch = (from: number) => {
    const read = Promise.all(ids.slice(from, from + READ_AHEAD).map((id) => tasks.get(id)));
    // Awaited later, or never when the caller stops early: its failure is not unhandled meanwhile.
    read.catch(() => undefined);
    return read;
  };
  let next = ids.length > 0 ? batch(0) : undefined;
  for (let from = 0; next; from += READ_AHEAD) {
    const records = await next;
    next = from + READ_AHEAD < ids.length ? batch(from + READ_AHEAD) : undefined;
    yield* records;
  }
}
