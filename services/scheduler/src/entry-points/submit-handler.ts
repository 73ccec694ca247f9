import { fromBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { type Logger, publishProto, Subjects, type TaskStore } from "@t2v/common";
import { GenerateJobSchema, TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { planDispatch } from "../domain/plan-dispatch.js";

/** Turns submissions into GenerateJobs on the task's pool subject. */
export function createSubmitHandler(deps: { tasks: TaskStore; js: JetStreamClient; log: Logger }) {
  return async function handleSubmit(msg: JsMsg): Promise<void> {
    const sub = fromBinary(TaskSubmittedSchema, msg.data);
    const stored = await deps.tasks.get(sub.taskId);
    const decision = planDispatch(stored?.record ?? null, sub, timestampNow());
    const log = deps.log.child({ task_id: sub.taskId, attempt: sub.attempt });
    switch (decision.kind) {
      case "wait":
        msg.nak(decision.delayMs);
        return;
      case "drop":
        log.debug({ reason: decision.reason }, "submission dropped");
        msg.ack();
        return;
      case "dispatch":
        // The msg id makes a redelivered submission publish nothing new.
        await publishProto(
          deps.js,
          Subjects.generate(decision.pool),
          GenerateJobSchema,
          decision.job,
          `generate:${sub.taskId}:${sub.attempt}`,
        );
        log.info({ pool: decision.pool }, "task dispatched");
        msg.ack();
    }
  };
}
