import { create, toBinary } from "@bufbuild/protobuf";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  Attr,
  contextFromTraceParent,
  endTask,
  inSpan,
  isTerminal,
  type Logger,
  type StoredTask,
  Subjects,
  type TaskStore,
} from "@t2v/common";
import { CancelRequestedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type WorkerEvent, WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { WriteRecord } from "./adapters/record-writer.js";
import { type ReconcileAction, type ReconcilePolicy, reconcileTask } from "./domain/reconcile-task.js";
import type { SchedulerState } from "./state.js";

export interface ReconcilerDeps {
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  nc: NatsConnection;
  applyEvent: (ev: WorkerEvent) => Promise<void>;
  /** Publishes a record's GenerateJob again (same message id). */
  republish: (r: TaskRecord, group: string) => Promise<void>;
  policy: ReconcilePolicy;
  log: Logger;
}

/**
 * The backstop: fails tasks past their deadline and treats a task whose worker
 * or job vanished as a failed attempt (so it is retried, within budget).
 * Looks only at tasks in flight or with a deadline, never the whole bucket.
 */
export function createReconciler(deps: ReconcilerDeps) {
  return async function reconcile(now = Date.now()): Promise<void> {
    const ids = new Set([...deps.state.inFlight.keys(), ...deps.state.deadlines.keys()]);
    for (const id of ids) {
      const stored = await deps.tasks.get(id);
      const r = stored?.record;
      if (!stored || !r?.task || isTerminal(r.task.status)) {
        deps.state.forget(id);
        continue;
      }
      const action = reconcileTask(r, now, deps.policy);
      if (action.kind === "none") continue;
      await inSpan(
        "scheduler.reconcile",
        { [Attr.taskId]: id, [Attr.attempt]: r.task.attempt, "t2v.reconcile.action": action.kind },
        () => act(stored, action),
        { parent: contextFromTraceParent(r.traceParent) },
      );
    }
  };

  async function act(stored: StoredTask, action: Exclude<ReconcileAction, { kind: "none" }>): Promise<void> {
    const r = stored.record;
    const id = r.task?.taskId ?? "";
    if (action.kind === "republish") {
      if (r.dispatchedGroup !== "") await deps.republish(r, r.dispatchedGroup);
      return;
    }
    if (action.kind === "deadline") {
      const next = endTask(r, TaskStatus.FAILED, { errorMessage: "deadline exceeded before the video was ready" });
      if (next && (await deps.write(stored, next))) {
        deps.state.forget(id);
        deps.nc.publish(
          Subjects.cancel,
          toBinary(CancelRequestedSchema, create(CancelRequestedSchema, { taskId: id })),
        );
        deps.log.warn({ task_id: id }, "deadline exceeded");
      }
      return;
    }
    deps.log.warn({ task_id: id, attempt: r.task?.attempt, reason: action.message }, "stalled task");
    await deps.applyEvent(
      create(WorkerEventSchema, {
        taskId: id,
        attempt: r.task?.attempt ?? 0,
        workerId: "reconciler",
        event: { case: "failed", value: { message: action.message, retryable: true, stage: "reconciler" } },
      }),
    );
  }
}
