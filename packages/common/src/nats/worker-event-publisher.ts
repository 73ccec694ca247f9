import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Context } from "@opentelemetry/api";
import { WorkerEventSchema } from "../gen/t2v/internal/v1/worker_event_pb.js";
import { publishProto } from "./publish.js";
import { Subjects } from "./topology.js";

export type WorkerEventBody = MessageInitShape<typeof WorkerEventSchema>["event"];

/**
 * Publishes WorkerEvents for one task attempt. `ctx` is the task's trace
 * context, for events published from callbacks that run outside it.
 */
export function createWorkerEventPublisher(js: JetStreamClient, workerId: string) {
  return (taskId: string, attempt: number, event: WorkerEventBody, ctx?: Context) =>
    publishProto(
      js,
      Subjects.event(taskId),
      WorkerEventSchema,
      create(WorkerEventSchema, { taskId, attempt, workerId, time: timestampNow(), event }),
      { taskId, ...(ctx ? { ctx } : {}) },
    );
}

export type PublishWorkerEvent = ReturnType<typeof createWorkerEventPublisher>;
