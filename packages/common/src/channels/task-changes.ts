import { toBinary } from "@bufbuild/protobuf";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import { ResultState } from "../gen/t2v/v1/video_service_pb.js";
import { statusName } from "../task/task-status.js";
import type { Bus, ConsumerSpec, StreamSpec } from "./bus/bus.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { DAY_MS, DUPLICATE_WINDOW_MS } from "./durations.js";

/**
 * A task record after each status change (not after progress steps), on
 * t2v.notify.<task_id>, for webhooks and other listeners. Limits retention:
 * several kinds of listener may each keep their own consumer.
 */
export const NOTIFY_STREAM: StreamSpec = {
  name: "T2V_NOTIFY",
  subjects: ["t2v.notify.>"],
  retention: "limits",
  maxAgeMs: 3 * DAY_MS,
  duplicateWindowMs: DUPLICATE_WINDOW_MS,
};

/** Shared by gateway replicas, so they split the webhook deliveries. */
export const WEBHOOK_CONSUMER: ConsumerSpec = {
  stream: NOTIFY_STREAM,
  durable: "webhooks",
  filter: "t2v.notify.>",
  ackWaitMs: 30_000,
  maxDeliver: -1,
};

/** `<task_id>.<status>.<attempt>`: one id per change, whoever publishes it; also the webhook-id header. */
export function taskChangeId(record: TaskRecord): string {
  const t = record.task;
  // DeleteTask changes neither status nor attempt: its change needs an id of its own.
  const deleted = t?.resultState === ResultState.DELETED ? ".deleted" : "";
  return `${t?.taskId ?? ""}.${statusName(t?.status ?? 0)}.${t?.attempt ?? 0}${deleted}`;
}

export interface TaskChanges {
  /** Deduplicated per task, status and attempt. */
  publish(record: TaskRecord): Promise<void>;
  inbox(): Promise<Inbox<TaskRecord>>;
}

export function taskChanges(bus: Bus): TaskChanges {
  return {
    async publish(record) {
      const taskId = record.task?.taskId;
      if (!taskId) return;
      await bus.publish(NOTIFY_STREAM, `t2v.notify.${taskId}`, toBinary(TaskRecordSchema, record), {
        msgId: `notify:${taskChangeId(record)}`,
        taskId,
      });
    },
    inbox: async () => typedInbox(await bus.inbox(WEBHOOK_CONSUMER), WEBHOOK_CONSUMER, TaskRecordSchema),
  };
}
