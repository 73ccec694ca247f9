import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { TaskControlAction, TaskControlSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import type { Bus, Unsubscribe } from "./bus/bus.js";

/**
 * Core NATS broadcast (not stored) of what happened to a task after submit:
 * the gateway writes the record first (PAUSED, QUEUED again, a new priority)
 * and then tells the scheduler and the workers; the scheduler asks a worker
 * to yield for preemption. The record stays the truth: the scheduler's sweep
 * and rebuild catch up a missed resume, and a worker that misses a pause
 * finds its job skipped or its events ignored.
 */
export const TASK_CONTROL_SUBJECT = "t2v.control.task";

export type TaskControlKind = "pause" | "resume" | "priority" | "yield";

export interface TaskControlMessage {
  readonly taskId: string;
  readonly kind: TaskControlKind;
  /** For "yield": the attempt asked to yield (0 for the others). */
  readonly attempt: number;
}

const ACTIONS: Record<TaskControlKind, TaskControlAction> = {
  pause: TaskControlAction.PAUSE,
  resume: TaskControlAction.RESUME,
  priority: TaskControlAction.PRIORITY,
  yield: TaskControlAction.YIELD,
};

const KINDS = new Map<TaskControlAction, TaskControlKind>(
  Object.entries(ACTIONS).map(([k, a]) => [a, k as TaskControlKind]),
);

export interface TaskControls {
  broadcast(control: { taskId: string; kind: TaskControlKind; attempt?: number }): void;
  /** `onControl` hears every broadcast from now on; malformed and unknown ones are ignored. */
  subscribe(onControl: (control: TaskControlMessage) => void): Unsubscribe;
}

export function taskControls(bus: Bus): TaskControls {
  return {
    broadcast: ({ taskId, kind, attempt = 0 }) =>
      bus.broadcast(
        TASK_CONTROL_SUBJECT,
        toBinary(TaskControlSchema, create(TaskControlSchema, { taskId, action: ACTIONS[kind], attempt })),
      ),
    subscribe: (onControl) =>
      bus.subscribe(TASK_CONTROL_SUBJECT, (data) => {
        let msg: { taskId: string; action: TaskControlAction; attempt: number };
        try {
          msg = fromBinary(TaskControlSchema, data);
        } catch {
          return;
        }
        const kind = KINDS.get(msg.action);
        if (!kind || msg.taskId === "") return;
        onControl({ taskId: msg.taskId, kind, attempt: msg.attempt });
      }),
  };
}
