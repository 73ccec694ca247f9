import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type QueueEstimate,
  QueueEstimatesRequestSchema,
  QueueEstimatesResponseSchema,
} from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import type { Bus, Unsubscribe } from "./bus/bus.js";

/** Core NATS request/reply to the leading scheduler: where queued tasks stand, when they should start. */
export const ESTIMATES_SUBJECT = "t2v.scheduler.estimates";

/** Ids per request; more are ignored. */
export const MAX_ESTIMATE_IDS = 100;

export interface QueueEstimates {
  /** Rejects when no scheduler answers within `timeoutMs`. */
  request(taskIds: string[], timeoutMs: number): Promise<QueueEstimate[]>;
  /** Answers requests with `estimate`; a request that cannot be decoded, or an estimate that throws, gets an empty answer. */
  answer(estimate: (taskIds: string[]) => QueueEstimate[]): Unsubscribe;
}

export function queueEstimates(bus: Bus): QueueEstimates {
  const encode = (estimates: QueueEstimate[]): Uint8Array =>
    toBinary(QueueEstimatesResponseSchema, create(QueueEstimatesResponseSchema, { estimates }));
  return {
    async request(taskIds, timeoutMs) {
      const req = toBinary(QueueEstimatesRequestSchema, create(QueueEstimatesRequestSchema, { taskIds }));
      return fromBinary(QueueEstimatesResponseSchema, await bus.request(ESTIMATES_SUBJECT, req, timeoutMs)).estimates;
    },
    answer: (estimate) =>
      bus.reply(ESTIMATES_SUBJECT, (data) => {
        try {
          const ids = fromBinary(QueueEstimatesRequestSchema, data).taskIds.slice(0, MAX_ESTIMATE_IDS);
          return encode(estimate(ids));
        } catch {
          return encode([]);
        }
      }),
  };
}
