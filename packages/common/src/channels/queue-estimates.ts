import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ArrivingTask,
  type QueueEstimate,
  QueueEstimatesRequestSchema,
  QueueEstimatesResponseSchema,
  type TaskSize,
} from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import type { Bus, Unsubscribe } from "./bus/bus.js";

/** Core NATS request/reply to the leading scheduler: where queued tasks stand, when they should start. */
export const ESTIMATES_SUBJECT = "t2v.scheduler.estimates";

/** Ids per request; more are ignored. */
export const MAX_ESTIMATE_IDS = 100;

export interface QueueEstimates {
  /**
   * Rejects when no scheduler answers within `timeoutMs`. `sizes` asks for the accelerator seconds of those
   * tasks too, queued or not; `arriving` for where tasks just created will stand (each at most MAX_ESTIMATE_IDS).
   */
  request(
    taskIds: string[],
    timeoutMs: number,
    sizes?: TaskSize[],
    arriving?: ArrivingTask[],
  ): Promise<QueueEstimate[]>;
  /** Answers requests with `estimate`; a request that cannot be decoded, or an estimate that throws, gets an empty answer. */
  answer(estimate: (taskIds: string[], sizes: TaskSize[], arriving: ArrivingTask[]) => QueueEstimate[]): Unsubscribe;
}

export function queueEstimates(bus: Bus): QueueEstimates {
  const encode = (estimates: QueueEstimate[]): Uint8Array =>
    toBinary(QueueEstimatesResponseSchema, create(QueueEstimatesResponseSchema, { estimates }));
  return {
    async request(taskIds, timeoutMs, sizes = [], arriving = []) {
      const req = toBinary(
        QueueEstimatesRequestSchema,
        create(QueueEstimatesRequestSchema, { taskIds, sizes, arriving }),
      );
      return fromBinary(QueueEstimatesResponseSchema, await bus.request(ESTIMATES_SUBJECT, req, timeoutMs)).estimates;
    },
    answer: (estimate) =>
      bus.reply(ESTIMATES_SUBJECT, (data) => {
        try {
          const req = fromBinary(QueueEstimatesRequestSchema, data);
          return encode(
            estimate(
              req.taskIds.slice(0, MAX_ESTIMATE_IDS),
              req.sizes.slice(0, MAX_ESTIMATE_IDS),
              req.arriving.slice(0, MAX_ESTIMATE_IDS),
            ),
          );
        } catch {
          return encode([]);
        }
      }),
  };
}
