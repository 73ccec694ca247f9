import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TaskControls, TaskStore } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { afterYield } from "@t2v/common/task";
import { Attr, contextFromTraceParent, inSpan } from "@t2v/common/telemetry";
import type { QueueEntry } from "../domain/fair-queue.js";
import { choosePreemption, type GroupWork, type PreemptionPolicy } from "../domain/preemption-policy.js";
import type { SchedulerState } from "../domain/state.js";
import type { WorkerGroup } from "../domain/worker-group.js";
import type { SchedulerMetrics } from "../metrics.js";
import type { WriteRecord } from "./write-record.js";

/** A yield not answered (Yielded event) within this long is taken as lost and may be asked again. */
export const YIELD_ANSWER_MS = 120_000;

export interface PreempterDeps {
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  taskControls: Pick<TaskControls, "broadcast">;
  policy: PreemptionPolicy;
  metrics: SchedulerMetrics;
  log: Logger;
  now: () => number;
}

/**
 * Step-level preemption: called by the dispatcher for each group after its round, with the
 * task it would dispatch next if it had a free worker (if any). When the policy names a victim, lower-tier jobs still waiting for
 * the group are taken back first (re-queued as a fresh attempt, not charged), then the victim's
 * worker is told to yield: it stops at its next step boundary, stores a checkpoint and reports
 * Yielded, which re-queues the victim at its place with its progress (apply-worker-event.ts).
 */
export function createPreempter(deps: PreempterDeps) {
  const { state, log } = deps;

  /** A job dispatched and not started goes back to the queue; false when it started meanwhile. */
  async function recall(w: GroupWork): Promise<boolean> {
    const stored = await deps.tasks.get(w.taskId);
    const r = stored?.record;
    const t = r?.task;
    if (!stored || !r || !t || t.status !== TaskStatus.QUEUED || t.attempt !== w.attempt) return false;
    if (r.dispatchedAttempt !== t.attempt) return false;
    // The job already sent is skipped as superseded by whichever worker gets it.
    const next = afterYield(r, { updateTime: timestampFromMs(deps.now()) });
    if (!(await deps.write(stored, next))) return false;
    state.track(next, deps.now());
    log.info({ task_id: w.taskId, attempt: w.attempt, pool: w.pool }, "dispatched job taken back for preemption");
    return true;
  }

  return async function preempt(group: WorkerGroup, waiting: QueueEntry | undefined): Promise<void> {
    const now = deps.now();
    const decision = choosePreemption(
      group,
      waiting,
      state.groupWork(group.group, now, YIELD_ANSWER_MS),
      now,
      deps.policy,
    );
    if (!decision) return;
    const { victim } = decision;
    const r = (await deps.tasks.get(victim.taskId))?.record;
    const t = r?.task;
    // The record moved on (the attempt ended, or the task did): the next round decides again.
    if (!r || !t || t.status !== TaskStatus.PROCESSING || t.attempt !== victim.attempt) {
      if (r) state.track(r, now);
      return;
    }
    for (const w of decision.recall) await recall(w);
    await inSpan(
      "scheduler.preempt",
      {
        [Attr.taskId]: victim.taskId,
        [Attr.attempt]: victim.attempt,
        [Attr.pool]: victim.pool,
        [Attr.group]: group.group,
        "t2v.preempt.for_task_id": decision.forTaskId,
        "t2v.preempt.for_pool": decision.forPool,
      },
      async () => {
        state.markYielding(victim.taskId, now);
        deps.taskControls.broadcast({ taskId: victim.taskId, kind: "yield", attempt: victim.attempt });
      },
      { parent: contextFromTraceParent(r.traceParent) },
    );
    deps.metrics.preemptions.add(1, { [Attr.pool]: victim.pool, "t2v.preempt.for_pool": decision.forPool });
    log.info(
      {
        task_id: victim.taskId,
        attempt: victim.attempt,
        pool: victim.pool,
        remaining_steps: victim.remainingSteps,
        for_task_id: decision.forTaskId,
        for_pool: decision.forPool,
        group: group.group,
      },
      "task preempted: yielding at its next step boundary",
    );
  };
}

export type Preempt = ReturnType<typeof createPreempter>;
