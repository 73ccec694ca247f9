import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { GenerateJobs, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import { patchRecord } from "@t2v/common/task";
import { Attr, contextFromTraceParent, inSpan } from "@t2v/common/telemetry";
import { generateJobFor, isDispatchable } from "../domain/dispatch-job.js";
import type { QueueEntry } from "../domain/fair-queue.js";
import { type AgeingPolicy, pickNext } from "../domain/pick-next.js";
import type { SchedulerState } from "../domain/state.js";
import type { WorkerGroup } from "../domain/worker-group.js";
import type { SchedulerMetrics } from "../metrics.js";
import type { WriteRecord } from "./write-record.js";

export interface DispatcherDeps {
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  generateJobs: Pick<GenerateJobs, "publish" | "backlog">;
  log: Logger;
  ageing: AgeingPolicy;
  /** Jobs kept waiting per group beyond one per worker, so a worker finishing a task starts the next at once. */
  prefetch: number;
  groups: () => readonly WorkerGroup[];
  metrics: SchedulerMetrics;
  now: () => number;
  /** Run time assumed until one is measured, for estimated_gpu_seconds. */
  defaultRunSeconds: number;
  /** Told of each group after its round, with what it would dispatch next (step-level preemption). */
  preempt?: (group: WorkerGroup, waiting: QueueEntry | undefined) => Promise<void>;
}

const MAX_CAS_TRIES = 10;

/**
 * Dispatches as late as possible: a group gets a job only when it has a free
 * worker (plus `prefetch`), so priorities and fairness decide among all the
 * queued work, not just what happened to arrive first.
 */
export function createDispatcher(deps: DispatcherDeps) {
  let running = false;
  let again = false;

  /** Publishes a record's GenerateJob; its message id makes a re-publish (after a crash, by the next leader) a no-op. */
  async function publishJob(r: TaskRecord, group: string): Promise<void> {
    await deps.generateJobs.publish(generateJobFor(r), group);
  }

  async function dispatchOne(taskId: string, group: string): Promise<boolean> {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const stored = await deps.tasks.get(taskId);
      const r = stored?.record;
      if (!stored || !r?.task || !isDispatchable(r)) {
        if (r) deps.state.track(r, deps.now());
        else deps.state.forget(taskId);
        return false;
      }
      const task = r.task;
      const p = task.params;
      const estimatedGpuSeconds =
        task.estimatedGpuSeconds ||
        (p
          ? deps.state.estimateGpuSecondsOf(
              r.pool,
              { width: p.width, height: p.height, numFrames: p.numFrames, steps: r.requestedSteps, draft: p.draft },
              deps.defaultRunSeconds,
            )
          : 0);
      const next = patchRecord(
        r,
        { updateTime: timestampFromMs(deps.now()), estimatedGpuSeconds },
        { dispatchedAttempt: task.attempt, dispatchedGroup: group },
      );
      const attrs = { [Attr.taskId]: taskId, [Attr.attempt]: task.attempt, [Attr.pool]: r.pool, [Attr.group]: group };
      let published = false;
      // Joins the task's trace (started by the client's CreateTask), whatever triggered this round.
      const ok = await inSpan(
        "scheduler.dispatch",
        { ...attrs, [Attr.tenantId]: r.tenantId },
        async () => {
          if (!(await deps.write(stored, next))) return false;
          deps.state.track(next, deps.now());
          // The record says dispatched; if the publish fails (NATS restarting),
          // the reconciler re-publishes it under the same message id.
          // Refused by the fence too: a write sent before this replica was stopped past its lease
          // lands, and its job is left to the leader now in charge.
          published = await publishJob(next, group).then(
            () => true,
            (err: unknown) => {
              deps.log.warn({ err, task_id: taskId }, "job not published yet; the reconciler will re-publish it");
              return false;
            },
          );
          return true;
        },
        { parent: contextFromTraceParent(r.traceParent) },
      );
      if (!ok) continue;
      if (task.attempt === 1 && task.createTime) {
        deps.metrics.queueWait.record((deps.now() - timestampMs(task.createTime)) / 1000, { [Attr.pool]: r.pool });
      }
      // "Dispatched" once its job is out; otherwise the warning above says what happens next.
      if (published)
        deps.log.info(
          { task_id: taskId, attempt: task.attempt, group, pool: r.pool, tenant: r.tenantId },
          "task dispatched",
        );
      return true;
    }
    return false;
  }

  async function roundOnce(): Promise<void> {
    const now = deps.now();
    for (const g of deps.groups()) {
      // A group whose consumer does not exist yet has no worker pulling.
      const backlog = await deps.generateJobs.backlog(g.group).catch(() => null);
      if (backlog === null) continue;
      let slots = g.workers + deps.prefetch - backlog;
      while (slots > 0) {
        const entry = pickNext(deps.state.queues, g.pools, now, deps.ageing);
        if (!entry) break;
        deps.state.take(entry);
        try {
          if (await dispatchOne(entry.taskId, g.group)) slots--;
        } catch (err) {
          // Not dispatched (the task store failed, or the term ended): back in its place at once,
          // not lost from the queue until the next sweep.
          deps.state.putBack(entry);
          throw err;
        }
      }
      // Waiting work the group had no slot for, or a job dispatched behind busy workers, may preempt.
      if (deps.preempt) await deps.preempt(g, pickNext(deps.state.queues, g.pools, now, deps.ageing));
    }
  }

  return {
    publishJob,
    /** Runs a dispatch round; calls during a round make it run once more. */
    async round(): Promise<void> {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          await roundOnce();
        } while (again);
      } catch (err) {
        deps.log.error({ err }, "dispatch round failed");
      } finally {
        running = false;
      }
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
