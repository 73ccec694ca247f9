import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { BlobStore, ResultCache, TaskStore } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { endTask, isTerminal, patchRecord } from "@t2v/common/task";
import { Attr } from "@t2v/common/telemetry";
import { cacheKey } from "../domain/cache-key.js";
import type { SchedulerState } from "../domain/state.js";
import type { SchedulerMetrics } from "../metrics.js";
import type { WriteRecord } from "./write-record.js";

export interface SubmissionDeps {
  tasks: TaskStore;
  state: SchedulerState;
  cache: Pick<ResultCache, "get">;
  videos: Pick<BlobStore, "info">;
  write: WriteRecord;
  /** Model name and version in result-cache keys. */
  model: string;
  metrics: SchedulerMetrics;
  log: Logger;
  now: () => number;
  requestDispatch: () => void;
}

/**
 * "done": the submission is handled; "retry": the record moved under us, decide again shortly;
 * "noRecord": no record (yet: the gateway writes it beside the submission, or never, when that
 * write failed).
 */
export type SubmissionOutcome = "done" | "retry" | "noRecord";

/**
 * A new task from the gateway: served from the result cache when an
 * identical seeded request already produced a video that is still stored,
 * otherwise queued for dispatch. The task record is the durable queue; this
 * only files it in memory.
 */
export function createSubmissionHandler(deps: SubmissionDeps) {
  return async function handleSubmission(taskId: string): Promise<SubmissionOutcome> {
    const stored = await deps.tasks.get(taskId);
    if (!stored) return "noRecord";
    const r = stored.record;
    const t = r.task;
    if (!t?.params || isTerminal(t.status)) return "done";
    if (t.status === TaskStatus.QUEUED && t.attempt === 1 && r.dispatchedAttempt === 0) {
      const key = cacheKey(r.tenantId, deps.model, t.params, r.requestedSteps);
      const hit = await deps.cache.get(key);
      if (hit && (await deps.videos.info(hit.videoObject))) {
        // The model that made the cached video, as a worker would have reported it.
        const [model = "", modelVersion = ""] = hit.model.split("@");
        const params = { ...t.params, model, modelVersion };
        const done = endTask(
          r,
          TaskStatus.COMPLETED,
          { progress: 1, cacheHit: true, params },
          timestampFromMs(deps.now()),
        );
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
        if (!next || !(await deps.write(stored, next))) return "retry";
        deps.log.info({ task_id: taskId, source_task_id: hit.taskId }, "served from the result cache");
        deps.metrics.cacheHits.add(1, { [Attr.pool]: r.pool });
        deps.state.forget(taskId);
        return "done";
      }
    }
    deps.state.track(r, deps.now());
    deps.requestDispatch();
    return "done";
  };
}

export type HandleSubmission = ReturnType<typeof createSubmissionHandler>;
