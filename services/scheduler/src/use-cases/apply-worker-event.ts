import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { BlobStore, DeadLetters, ResultCache, TaskStore, UsageLedger, VideoBytes } from "@t2v/common/channels";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { patchRecord } from "@t2v/common/task";
import { Attr } from "@t2v/common/telemetry";
import { applyWorkerEvent } from "../domain/apply-worker-event.js";
import { cacheKey } from "../domain/cache-key.js";
import type { RetryPolicy } from "../domain/retry-policy.js";
import type { SchedulerState } from "../domain/state.js";
import type { SchedulerMetrics } from "../metrics.js";
import { settleEnded } from "./record-usage.js";
import type { WriteRecord } from "./write-record.js";

export interface EventApplierDeps {
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  cache: Pick<ResultCache, "put">;
  deadLetters: Pick<DeadLetters, "put">;
  usage: UsageLedger;
  videoBytes: Pick<VideoBytes, "count">;
  /** Where an ended task's latents are deleted when it is settled. */
  latents: Pick<BlobStore, "delete">;
  metrics: SchedulerMetrics;
  retry: RetryPolicy;
  /** Model name and version in result-cache keys. */
  model: string;
  random: () => number;
  now: () => number;
  log: Logger;
  /** Asks the dispatcher for a round (a worker freed up, or a retry waits). */
  requestDispatch: () => void;
}

export type ApplyEvent = (ev: WorkerEvent) => Promise<void>;

const MAX_CAS_TRIES = 20;

/**
 * Applies one worker event to its task record (compare-and-swap, retried on
 * contention), then keeps the in-memory queues, the result cache and the
 * dead letters in step with what was written. The reconciler reports a
 * stalled attempt through here too.
 */
export function createEventApplier(deps: EventApplierDeps): ApplyEvent {
  return async function applyEvent(ev) {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const stored = await deps.tasks.get(ev.taskId);
      if (!stored) return;
      const now = timestampFromMs(deps.now());
      const transition = applyWorkerEvent(stored.record, ev, { now, retry: deps.retry, random: deps.random() });
      if (!transition.record) {
        // A redelivered "video ready" after a crash between the record write and
        // the usage write: make sure the completed task is billed (once).
        const done = stored.record.task;
        if (ev.event.case === "videoReady" && done?.status === TaskStatus.COMPLETED && done.attempt === ev.attempt) {
          await settleEnded(deps, stored.record);
        }
        return;
      }
      if (!(await deps.write(stored, transition.record))) continue;
      const next = transition.record;
      const task = next.task;
      deps.state.track(next, deps.now());
      const asked = stored.record.task?.params;
      if (ev.event.case === "started" && next.requestedSteps === 0 && asked && !asked.draft)
        deps.state.learnDefaultSteps(ev.event.value.totalSteps);
      if (task?.status === TaskStatus.COMPLETED && task.params) {
        if (task.startTime) {
          deps.state.recordRunSeconds(next.pool, (timestampMs(now) - timestampMs(task.startTime)) / 1000);
        }
        const p = task.params;
        deps.state.recordGpuSeconds(next.pool, next.gpuSeconds, {
          width: p.width,
          height: p.height,
          numFrames: p.numFrames,
          steps: task.totalSteps,
          draft: p.draft,
        });
        const key = cacheKey(next.tenantId, deps.model, task.params, next.requestedSteps);
        if (key !== "")
          await deps.cache.put(key, next).catch((err: unknown) => deps.log.warn({ err }, "cache write failed"));
      }
      const stage = ev.event.case === "failed" ? ev.event.value.stage : "";
      if (transition.retry) deps.metrics.retries.add(1, { [Attr.stage]: stage });
      if (task?.status === TaskStatus.FAILED) {
        deps.metrics.deadLetters.add(1, { [Attr.stage]: stage });
        // Operators get the detail (last_error), users the safe message.
        const letter = next.lastError ? patchRecord(next, { errorMessage: next.lastError }) : next;
        await deps.deadLetters
          .put(letter, stage)
          .catch((err: unknown) => deps.log.warn({ err }, "dead letter not written"));
      }
      if (transition.retry || ev.event.case !== "step") deps.requestDispatch();
      return;
    }
    throw new Error(`task ${ev.taskId}: could not apply event after ${MAX_CAS_TRIES} tries`);
  };
}
