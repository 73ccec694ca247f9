import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { BlobStore, Cancellations, StoredTask, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { endTask, isTerminal, patchRecord } from "@t2v/common/task";
import { Attr, contextFromTraceParent, inSpan } from "@t2v/common/telemetry";
import { ErrorCode, safeMessage } from "../domain/error-codes.js";
import { type ReconcileAction, type ReconcilePolicy, reconcileTask } from "../domain/reconcile-task.js";
import type { SchedulerState } from "../domain/state.js";
import type { ApplyEvent } from "./apply-worker-event.js";
import type { WriteRecord } from "./write-record.js";

export interface ReconcilerDeps {
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  cancellations: Pick<Cancellations, "broadcast">;
  /** Where a paused task's checkpoint is deleted when its pause runs out. */
  checkpoints: Pick<BlobStore, "delete">;
  applyEvent: ApplyEvent;
  /** Publishes a record's GenerateJob again (same message id). */
  republish: (r: TaskRecord, group: string) => Promise<void>;
  policy: ReconcilePolicy;
  log: Logger;
  now: () => number;
}

/**
 * The backstop: fails tasks past their deadline and treats a task whose worker
 * or job vanished as a failed attempt (so it is retried, within budget).
 * Looks only at tasks in flight or with a deadline, never the whole bucket.
 */
export function createReconciler(deps: ReconcilerDeps) {
  return async function reconcile(now = deps.now()): Promise<void> {
    for (const id of deps.state.watchedIds()) {
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
        { [Attr.taskId]: id, [Attr.attempt]: r.task.attempt, [Attr.reconcileAction]: action.kind },
        () => act(stored, action, now),
        { parent: contextFromTraceParent(r.traceParent) },
      );
    }
  };

  async function act(stored: StoredTask, action: Exclude<ReconcileAction, { kind: "none" }>, now: number) {
    const r = stored.record;
    const id = r.task?.taskId ?? "";
    if (action.kind === "republish") {
      if (r.dispatchedGroup !== "") await deps.republish(r, r.dispatchedGroup);
      return;
    }
    if (action.kind === "deadline" || action.kind === "startTimeout") {
      const code = action.kind === "deadline" ? ErrorCode.deadlineExceeded : ErrorCode.startTimeout;
      // Failed, not completed: no usage record, nothing billed.
      const next = endTask(
        r,
        TaskStatus.FAILED,
        { errorCode: code, errorMessage: safeMessage(code) },
        timestampFromMs(now),
      );
      if (next && (await deps.write(stored, next))) {
        deps.state.forget(id);
        // A worker still running (or just taking) the task stops between two steps.
        deps.cancellations.broadcast(id);
        deps.log.warn(
          { task_id: id, error_code: code },
          action.kind === "deadline" ? "deadline exceeded" : "start timeout",
        );
      }
      return;
    }
    if (action.kind === "pauseExpired") {
      const next = endTask(
        r,
        TaskStatus.CANCELLED,
        { errorCode: ErrorCode.pauseExpired, errorMessage: safeMessage(ErrorCode.pauseExpired) },
        timestampFromMs(now),
      );
      if (next && (await deps.write(stored, patchRecord(next, {}, { checkpointObject: "" })))) {
        deps.state.forget(id);
        // Without a name (the pause reached no running attempt), the store's TTL removes it.
        if (r.checkpointObject !== "")
          await deps.checkpoints
            .delete(r.checkpointObject)
            .catch((err: unknown) => deps.log.warn({ err, task_id: id }, "checkpoint not deleted (its TTL will)"));
        deps.log.info({ task_id: id, error_code: ErrorCode.pauseExpired }, "paused task expired");
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
