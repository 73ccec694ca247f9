import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { NatsConnection } from "@nats-io/nats-core";
import { Subjects } from "@t2v/common";
import {
  type QueueEstimate,
  QueueEstimatesRequestSchema,
  QueueEstimatesResponseSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Estimator = (tasks: Task[]) => Promise<void>;

/**
 * Fills queue_position and the ETAs of queued tasks from the scheduler. The
 * answer is a nicety: when the scheduler is slow or away, the fields stay
 * unset and the call goes on.
 */
export function createEstimator(nc: NatsConnection, timeoutMs = 250): Estimator {
  return async (tasks) => {
    const queued = tasks.filter((t) => t.status === TaskStatus.QUEUED);
    if (queued.length === 0) return;
    let estimates: QueueEstimate[];
    try {
      const req = create(QueueEstimatesRequestSchema, { taskIds: queued.map((t) => t.taskId) });
      const msg = await nc.request(Subjects.estimates, toBinary(QueueEstimatesRequestSchema, req), {
        timeout: timeoutMs,
      });
      estimates = fromBinary(QueueEstimatesResponseSchema, msg.data).estimates;
    } catch {
      return;
    }
    const byId = new Map(estimates.map((e) => [e.taskId, e]));
    for (const t of queued) {
      const e = byId.get(t.taskId);
      if (!e) continue;
      t.queuePosition = e.position;
      t.estimatedStartTime = e.estimatedStartTime;
      t.estimatedFinishTime = e.estimatedFinishTime;
    }
  };
}
