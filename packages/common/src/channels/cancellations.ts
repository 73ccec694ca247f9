import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CancelRequestedSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import type { Bus, Unsubscribe } from "./bus/bus.js";

/**
 * Core NATS broadcast (not stored): the task record says CANCELLED first, so
 * a worker that misses this still finds out before its next stage. Running
 * workers stop the task between two steps; the scheduler drops it from its queue.
 */
export const CANCEL_SUBJECT = "t2v.control.cancel";

export interface Cancellations {
  broadcast(taskId: string): void;
  /** `onCancel` hears every broadcast from now on; malformed ones are ignored. */
  subscribe(onCancel: (taskId: string) => void): Unsubscribe;
}

export function cancellations(bus: Bus): Cancellations {
  return {
    broadcast: (taskId) =>
      bus.broadcast(CANCEL_SUBJECT, toBinary(CancelRequestedSchema, create(CancelRequestedSchema, { taskId }))),
    subscribe: (onCancel) =>
      bus.subscribe(CANCEL_SUBJECT, (data) => {
        let taskId: string;
        try {
          taskId = fromBinary(CancelRequestedSchema, data).taskId;
        } catch {
          return;
        }
        onCancel(taskId);
      }),
  };
}
