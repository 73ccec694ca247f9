import { fromBinary } from "@bufbuild/protobuf";
import { timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { JsMsg } from "@nats-io/jetstream";
import { Attr, type Logger, type TaskStore, type UsageLedger } from "@t2v/common";
import { type WorkerEvent, WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { recordUsage, type WriteRecord } from "../adapters/record-writer.js";
import type { PutDeadLetter, ResultCache } from "../adapters/side-records.js";
import { applyWorkerEvent } from "../domain/apply-worker-event.js";
import { cacheKey } from "../domain/cache-key.js";
import { updateMean } from "../domain/estimate-wait.js";
import type { RetryPolicy } from "../domain/retry-policy.js";
import type { SchedulerMetrics } from "../scheduler-metrics.js";
import type { SchedulerState } from "../state.js";

export interface EventDeps {
  usage: UsageLedger;
  metrics: SchedulerMetrics;
  tasks: TaskStore;
  state: SchedulerState;
  write: WriteRecord;
  cache: ResultCache;
  deadLetter: PutDeadLetter;
  retry: RetryPolicy;
  model: string;
  random: () => number;
  log: Logger;
  kick: () => void;
}

const MAX_CAS_TRIES = 20;

/**
 * Applies one worker event to its task record (compare-and-swap, retried on
 * contention), then keeps the in-memory queues, the result cache and the
 * dead letters in step with what was written.
 */
export function createEventApplier(deps: EventDeps) {
  return async function applyEvent(ev: WorkerEvent): Promise<void> {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const stored = await deps.tasks.get(ev.taskId);
      if (!stored) return;
      const now = timestampNow();
      const t = applyWorkerEvent(stored.record, ev, { now, retry: deps.retry, random: deps.random() });
      if (!t.record) {
        // A redelivered "video ready" after a crash between the record write and
        // the usage write: make sure the completed task is billed (once).
        const done = stored.record.task;
        if (ev.event.case === "videoReady" && done?.status === TaskStatus.COMPLETED && done.attempt === ev.attempt) {
          await recordUsage(deps, stored.record);
        }
        return;
      }
      if (!(await deps.write(stored, t.record))) continue;
      const next = t.record;
      const task = next.task;
      deps.state.track(next);
      if (task?.status === TaskStatus.COMPLETED && task.params) {
        if (task.startTime) {
          const runSeconds = (timestampMs(now) - timestampMs(task.startTime)) / 1000;
          deps.state.meanRunSeconds.set(next.pool, updateMean(deps.state.meanRunSeconds.get(next.pool), runSeconds));
        }
        const key = cacheKey(next.tenantId, deps.model, task.params);
        if (key !== "")
          await deps.cache.put(key, next).catch((err: unknown) => deps.log.warn({ err }, "cache write failed"));
      }
      if (t.retry)
        deps.metrics.retries.add(1, { [Attr.stage]: ev.event.case === "failed" ? ev.event.value.stage : "" });
      if (task?.status === TaskStatus.FAILED) {
        const stage = ev.event.case === "failed" ? ev.event.value.stage : "";
        deps.metrics.deadLetters.add(1, { [Attr.stage]: stage });
        await deps.deadLetter(next, stage).catch((err: unknown) => deps.log.warn({ err }, "dead letter not written"));
      }
      if (t.retry || ev.event.case !== "step") deps.kick();
      return;
    }
    throw new Error(`task ${ev.taskId}: could not apply event after ${MAX_CAS_TRIES} tries`);
  };
}

export function createEventHandler(applyEvent: (ev: WorkerEvent) => Promise<void>) {
  return async function handleEvent(msg: JsMsg): Promise<void> {
    await applyEvent(fromBinary(WorkerEventSchema, msg.data));
    msg.ack();
  };
}
