import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { type Logger, publishProto, Subjects, statusName, type TaskStore } from "@t2v/common";
import { TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { applyWorkerEvent } from "../domain/apply-worker-event.js";
import type { RetryPolicy } from "../domain/retry-policy.js";

const MAX_CAS_TRIES = 20;

/**
 * Applies worker events to task records. A retry's submission is published
 * before the record is written: if we crash in between, the redelivered event
 * recomputes the same transition and the publish is deduplicated by its id.
 */
export function createEventHandler(deps: {
  tasks: TaskStore;
  js: JetStreamClient;
  log: Logger;
  retry: RetryPolicy;
  random: () => number;
}) {
  return async function handleEvent(msg: JsMsg): Promise<void> {
    const ev = fromBinary(WorkerEventSchema, msg.data);
    const log = deps.log.child({ task_id: ev.taskId, attempt: ev.attempt });
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const stored = await deps.tasks.get(ev.taskId);
      if (!stored) break;
      const now = timestampNow();
      const t = applyWorkerEvent(stored.record, ev, { now, retry: deps.retry, random: deps.random() });
      if (!t.record) break;
      if (t.retry) {
        const { attempt, delayMs } = t.retry;
        await publishProto(
          deps.js,
          Subjects.submit(stored.record.pool),
          TaskSubmittedSchema,
          create(TaskSubmittedSchema, {
            taskId: ev.taskId,
            tenantId: stored.record.tenantId,
            pool: stored.record.pool,
            attempt,
            notBefore: timestampFromMs(Date.now() + delayMs),
          }),
          `submit:${ev.taskId}:${attempt}`,
        );
        log.warn(
          { next_attempt: attempt, delay_ms: delayMs, error: t.record.task?.errorMessage },
          "task will be retried",
        );
      }
      if (await deps.tasks.replace(t.record, stored.revision)) {
        const status = t.record.task?.status;
        if (ev.event.case !== "step" && status !== undefined) log.info({ status: statusName(status) }, "task updated");
        break;
      }
    }
    msg.ack();
  };
}
