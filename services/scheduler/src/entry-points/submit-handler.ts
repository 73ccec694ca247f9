import { fromBinary } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import type { ObjectStore } from "@nats-io/obj";
import { Attr, endTask, isTerminal, type Logger, patchRecord, type TaskStore } from "@t2v/common";
import { TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { WriteRecord } from "../adapters/record-writer.js";
import type { ResultCache } from "../adapters/side-records.js";
import { cacheKey } from "../domain/cache-key.js";
import type { SchedulerMetrics } from "../scheduler-metrics.js";
import type { SchedulerState } from "../state.js";

export interface SubmitDeps {
  metrics: SchedulerMetrics;
  tasks: TaskStore;
  state: SchedulerState;
  cache: ResultCache;
  videos: ObjectStore;
  write: WriteRecord;
  model: string;
  log: Logger;
  /** Asks the dispatcher for a round. */
  kick: () => void;
}

/**
 * New tasks from the gateway: served from the result cache when an identical
 * seeded request already produced a video, otherwise queued for dispatch.
 * The task record is the durable queue; this only files it in memory.
 */
export function createSubmitHandler(deps: SubmitDeps) {
  return async function handleSubmit(msg: JsMsg): Promise<void> {
    const { taskId } = fromBinary(TaskSubmittedSchema, msg.data);
    const stored = await deps.tasks.get(taskId);
    const r = stored?.record;
    const t = r?.task;
    if (!stored || !r || !t?.params || isTerminal(t.status)) {
      msg.ack();
      return;
    }
    if (t.status === TaskStatus.QUEUED && t.attempt === 1 && r.dispatchedAttempt === 0) {
      const key = cacheKey(r.tenantId, deps.model, t.params);
      const hit = await deps.cache.get(key);
      if (hit && (await deps.videos.info(hit.videoObject))) {
        const done = endTask(r, TaskStatus.COMPLETED, { progress: 1, cacheHit: true });
        const next =
          done &&
          patchRecord(
            done,
            {},
            {
              videoObject: hit.videoObject,
              posterObject: hit.posterObject,
              videoSizeBytes: hit.videoSizeBytes,
              model: hit.model,
              cacheKey: key,
            },
          );
        if (next && (await deps.write(stored, next))) {
          deps.log.info({ task_id: taskId, source_task_id: hit.taskId }, "served from the result cache");
          deps.metrics.cacheHits.add(1, { [Attr.pool]: r.pool });
          deps.state.forget(taskId);
          msg.ack();
          return;
        }
        msg.nak(100); // the record moved under us: decide again
        return;
      }
    }
    deps.state.track(r);
    msg.ack();
    deps.kick();
  };
}
