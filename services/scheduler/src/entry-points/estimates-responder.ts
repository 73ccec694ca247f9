import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { Subjects } from "@t2v/common";
import {
  type QueueEstimate,
  QueueEstimateSchema,
  QueueEstimatesRequestSchema,
  QueueEstimatesResponseSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { WorkerGroupView } from "../adapters/worker-registry.js";
import { estimateWait } from "../domain/estimate-wait.js";
import { queuePosition } from "../domain/pick-next.js";
import type { SchedulerState } from "../state.js";

const MAX_IDS = 100;

/** Answers where queued tasks stand and when they should start and finish. */
export function serveEstimates(
  nc: NatsConnection,
  state: SchedulerState,
  groups: () => WorkerGroupView[],
  defaultRunSeconds: number,
): Subscription {
  const estimate = (taskId: string, now: number): QueueEstimate | undefined => {
    const pool = [...state.queues.entries()].find(([, q]) => q.has(taskId))?.[0];
    if (pool === undefined) return undefined;
    const serving = groups().filter((g) => g.pools.includes(pool));
    const widest = serving.reduce<WorkerGroupView | undefined>(
      (a, g) => (!a || g.workers > a.workers ? g : a),
      undefined,
    );
    const position = queuePosition(state.queues, widest?.pools ?? [pool], pool, taskId);
    if (position === undefined) return undefined;
    const pools = [...new Set(serving.flatMap((g) => g.pools))];
    const wait = estimateWait(
      position,
      {
        workers: serving.reduce((n, g) => n + g.workers, 0),
        running: state.runningIn(pools),
        meanRunSeconds: state.meanRunSeconds.get(pool) ?? defaultRunSeconds,
      },
      now,
    );
    return create(QueueEstimateSchema, {
      taskId,
      position,
      ...(wait
        ? { estimatedStartTime: timestampFromMs(wait.startMs), estimatedFinishTime: timestampFromMs(wait.finishMs) }
        : {}),
    });
  };

  return nc.subscribe(Subjects.estimates, {
    // This callback runs inside the NATS client's reader: nothing may escape it,
    // or the connection stops reading.
    callback: (err, msg) => {
      if (err) return;
      let estimates: QueueEstimate[] = [];
      try {
        const ids = fromBinary(QueueEstimatesRequestSchema, msg.data).taskIds.slice(0, MAX_IDS);
        const now = Date.now();
        estimates = ids.flatMap((id) => estimate(id, now) ?? []);
      } catch {
        // A malformed request (or an estimate that cannot be made) gets an empty answer.
      }
      try {
        msg.respond(toBinary(QueueEstimatesResponseSchema, create(QueueEstimatesResponseSchema, { estimates })));
      } catch {
        msg.respond(toBinary(QueueEstimatesResponseSchema, create(QueueEstimatesResponseSchema)));
      }
    },
  });
}
