import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Context } from "@opentelemetry/api";
import { type WorkerEvent, WorkerEventSchema } from "../gen/t2v/internal/v1/worker_event_pb.js";
import type { Bus, ConsumerSpec, StreamSpec } from "./bus/bus.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { DAY_MS, DUPLICATE_WINDOW_MS } from "./durations.js";

/** What workers report (started, step, denoised, encoding progress, video ready, failed) -> scheduler. */
export const EVENTS_STREAM: StreamSpec = {
  name: "T2V_EVENTS",
  subjects: ["t2v.event.>"],
  retention: "workqueue",
  maxAgeMs: 7 * DAY_MS,
  duplicateWindowMs: DUPLICATE_WINDOW_MS,
};

export const EVENTS_CONSUMER: ConsumerSpec = {
  stream: EVENTS_STREAM,
  durable: "scheduler-events",
  filter: "t2v.event.>",
  ackWaitMs: 30_000,
  maxDeliver: -1,
};

export type WorkerEventBody = MessageInitShape<typeof WorkerEventSchema>["event"];

/**
 * Publishes one event of a task attempt. Not deduplicated: the scheduler's
 * state machine ignores repeated, late and reordered events. `ctx` is the
 * task's trace context, for events published from callbacks outside it.
 */
export type PublishWorkerEvent = (
  taskId: string,
  attempt: number,
  event: WorkerEventBody,
  ctx?: Context,
) => Promise<void>;

export interface WorkerEvents {
  publisher(workerId: string): PublishWorkerEvent;
  /** Sends an event as it is (the reconciler reports a stalled attempt this way). */
  publish(event: WorkerEvent): Promise<void>;
  inbox(): Promise<Inbox<WorkerEvent>>;
}

export function workerEvents(bus: Bus): WorkerEvents {
  const publish = (event: WorkerEvent, ctx?: Context): Promise<void> =>
    bus.publish(EVENTS_STREAM, `t2v.event.${event.taskId}`, toBinary(WorkerEventSchema, event), {
      taskId: event.taskId,
      ...(ctx ? { ctx } : {}),
    });
  return {
    publisher: (workerId) => (taskId, attempt, event, ctx) =>
      publish(create(WorkerEventSchema, { taskId, attempt, workerId, time: timestampNow(), event }), ctx),
    publish: (event) => publish(event),
    inbox: async () => typedInbox(await bus.inbox(EVENTS_CONSUMER), EVENTS_CONSUMER, WorkerEventSchema),
  };
}
