import { timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import {
  Attr,
  Consumers,
  contextFromTraceParent,
  inSpan,
  type Logger,
  patchRecord,
  publishProto,
  Streams,
  Subjects,
  type TaskStore,
} from "@t2v/common";
import { GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { WriteRecord } from "./adapters/record-writer.js";
import type { WorkerGroupView } from "./adapters/worker-registry.js";
import { type AgeingPolicy, pickNext } from "./domain/pick-next.js";
import { generateJobFor, isDispatchable } from "./domain/plan-dispatch.js";
import type { SchedulerMetrics } from "./scheduler-metrics.js";
import type { SchedulerState } from "./state.js";

export interface DispatcherDeps {
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  js: JetStreamClient;
  jsm: JetStreamManager;
  log: Logger;
  ageing: AgeingPolicy;
  /** Jobs kept waiting per group beyond one per worker, so a worker finishing a task starts the next at once. */
  prefetch: number;
  groups: () => WorkerGroupView[];
  metrics: SchedulerMetrics;
}

/**
 * Dispatches as late as possible: a group gets a job only when it has a free
 * worker (plus `prefetch`), so priorities and fairness decide among all the
 * queued work, not just what happened to arrive first.
 */
export function createDispatcher(deps: DispatcherDeps) {
  let running = false;
  let again = false;

  async function publishJob(r: TaskRecord, group: string): Promise<void> {
    const job = generateJobFor(r);
    // The id makes a re-publish after a crash (or by the next leader) a no-op.
    await publishProto(deps.js, Subjects.generate(group), GenerateJobSchema, job, {
      msgId: `generate:${job.taskId}:${job.attempt}`,
      taskId: job.taskId,
    });
  }

  async function dispatchOne(taskId: string, group: string): Promise<boolean> {
    for (let i = 0; i < 10; i++) {
      const stored = await deps.tasks.get(taskId);
      const r = stored?.record;
      if (!stored || !r?.task || !isDispatchable(r)) {
        if (r) deps.state.track(r);
        else deps.state.forget(taskId);
        return false;
      }
      const task = r.task;
      const next = patchRecord(
        r,
        { updateTime: timestampNow() },
        { dispatchedAttempt: task.attempt, dispatchedGroup: group },
      );
      const attrs = { [Attr.taskId]: taskId, [Attr.attempt]: task.attempt, [Attr.pool]: r.pool, [Attr.group]: group };
      // Joins the task's trace (started by the client's CreateTask), whatever triggered this round.
      const ok = await inSpan(
        "scheduler.dispatch",
        { ...attrs, [Attr.tenantId]: r.tenantId },
        async () => {
          if (!(await deps.write(stored, next))) return false;
          deps.state.track(next);
          // The record says dispatched; if the publish fails (NATS restarting),
          // the reconciler re-publishes it under the same message id.
          await publishJob(next, group).catch((err: unknown) =>
            deps.log.warn({ err, task_id: taskId }, "job not published yet; the reconciler will re-publish it"),
          );
          return true;
        },
        { parent: contextFromTraceParent(r.traceParent) },
      );
      if (!ok) continue;
      if (task.attempt === 1 && task.createTime) {
        deps.metrics.queueWait.record((Date.now() - timestampMs(task.createTime)) / 1000, { [Attr.pool]: r.pool });
      }
      deps.log.info(
        { task_id: taskId, attempt: task.attempt, group, pool: r.pool, tenant: r.tenantId },
        "task dispatched",
      );
      return true;
    }
    return false;
  }

  async function roundOnce(): Promise<void> {
    const now = Date.now();
    for (const g of deps.groups()) {
      const info = await deps.jsm.consumers.info(Streams.generate, Consumers.inference(g.group)).catch(() => null);
      if (!info) continue;
      let slots = g.workers + deps.prefetch - (info.num_pending + info.num_ack_pending);
      while (slots > 0) {
        const entry = pickNext(deps.state.queues, g.pools, now, deps.ageing);
        if (!entry) break;
        deps.state.queue(entry.pool).take(entry.taskId);
        deps.state.dirtyTenants.add(entry.tenantId);
        if (await dispatchOne(entry.taskId, g.group)) slots--;
      }
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
