import { create, toBinary } from "@bufbuild/protobuf";
import { type TaskSubmitted, TaskSubmittedSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import type { Bus, ConsumerSpec, StreamSpec } from "./bus/bus.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { DAY_MS, DUPLICATE_WINDOW_MS } from "./durations.js";

/**
 * New tasks, gateway -> scheduler, on t2v.submit.<pool>. Published beside the task record's
 * create: a submission may arrive before its record (the scheduler waits a little for it).
 */
export const SUBMIT_STREAM: StreamSpec = {
  name: "T2V_SUBMIT",
  subjects: ["t2v.submit.>"],
  retention: "workqueue",
  maxAgeMs: 7 * DAY_MS,
  duplicateWindowMs: DUPLICATE_WINDOW_MS,
};

export const SUBMIT_CONSUMER: ConsumerSpec = {
  stream: SUBMIT_STREAM,
  durable: "scheduler-submit",
  filter: "t2v.submit.>",
  ackWaitMs: 30_000,
  maxDeliver: -1,
};

export interface Submissions {
  /** Idempotent: a retried submit of the same task is dropped within the duplicate window. */
  submit(s: { taskId: string; tenantId: string; pool: string }): Promise<void>;
  inbox(): Promise<Inbox<TaskSubmitted>>;
}

export function submissions(bus: Bus): Submissions {
  return {
    submit: ({ taskId, tenantId, pool }) =>
      bus.publish(
        SUBMIT_STREAM,
        `t2v.submit.${pool}`,
        toBinary(TaskSubmittedSchema, create(TaskSubmittedSchema, { taskId, tenantId, pool, attempt: 1 })),
        { msgId: `submit:${taskId}:1`, taskId },
      ),
    inbox: async () => typedInbox(await bus.inbox(SUBMIT_CONSUMER), SUBMIT_CONSUMER, TaskSubmittedSchema),
  };
}
