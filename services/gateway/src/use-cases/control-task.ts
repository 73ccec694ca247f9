import type { TaskChanges, TaskControlKind, TaskControls, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import type { Caller } from "../domain/caller.js";
import { failedPrecondition } from "../domain/rpc-errors.js";
import { type ControlOutcome, pauseRecord, reprioritiseRecord, resumeRecord } from "../domain/task-control-rules.js";
import type { GetTaskForCaller } from "./get-task-for-caller.js";

export interface ControlTaskDeps {
  tasks: TaskStore;
  getTask: GetTaskForCaller;
  taskControls: Pick<TaskControls, "broadcast">;
  taskChanges: TaskChanges;
  /** How long a paused task keeps its checkpoint before it is cancelled (PAUSED_TTL_HOURS). */
  pausedTtlMs: number;
  log: Logger;
  now: () => number;
}

export interface ControlTask {
  pauseTask(caller: Caller, taskId: string): Promise<TaskRecord>;
  resumeTask(caller: Caller, taskId: string): Promise<TaskRecord>;
  updateTaskPriority(caller: Caller, taskId: string, priority: number): Promise<TaskRecord>;
}

/**
 * PauseTask, ResumeTask and UpdateTaskPriority: the caller's own task
 * (NOT_FOUND otherwise, as GetTask), changed by compare-and-swap, then a
 * task-control broadcast so the scheduler re-files it and a running worker
 * yields, then the change goes to webhook listeners. A refused change is
 * FAILED_PRECONDITION; a change that is already so returns the task as it is.
 */
export function controlTaskUseCases(deps: ControlTaskDeps): ControlTask {
  const { tasks, log } = deps;

  async function control(
    caller: Caller,
    taskId: string,
    kind: TaskControlKind,
    rule: (r: TaskRecord, nowMs: number) => ControlOutcome,
  ): Promise<TaskRecord> {
    const current = await deps.getTask(caller, taskId);
    let refused: Extract<ControlOutcome, { kind: "refused" }> | undefined;
    const updated = await tasks.update(taskId, (r) => {
      const outcome = rule(r, deps.now());
      refused = outcome.kind === "refused" ? outcome : undefined;
      return outcome.kind === "changed" ? outcome.record : null;
    });
    if (refused) throw failedPrecondition(refused.message, refused.code);
    if (!updated) return (await tasks.get(taskId))?.record ?? current.record;
    deps.taskControls.broadcast({ taskId, kind });
    try {
      await deps.taskChanges.publish(updated.record);
    } catch (err) {
      // The change stands; only its webhook is lost.
      log.warn({ err, task_id: taskId }, `could not publish the ${kind} notification`);
    }
    log.info({ task_id: taskId, control: kind, priority: updated.record.task?.priority }, "task controlled");
    return updated.record;
  }

  return {
    pauseTask: (caller, taskId) => control(caller, taskId, "pause", (r, now) => pauseRecord(r, now, deps.pausedTtlMs)),
    resumeTask: (caller, taskId) => control(caller, taskId, "resume", resumeRecord),
    updateTaskPriority: (caller, taskId, priority) =>
      control(caller, taskId, "priority", (r, now) => reprioritiseRecord(r, priority, now)),
  };
}
