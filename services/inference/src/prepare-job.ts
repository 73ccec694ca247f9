import { fromBinary } from "@bufbuild/protobuf";
import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "@t2v/common";
import { GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Generator } from "@t2v/model";
import { toGenerationSpec } from "./domain/to-generation-spec.js";

/**
 * Encodes a held job's prompt pair in the engine worker (between the running task's steps), so
 * the job starts without text encoding. The exact spec mapping the handler uses keeps the
 * cache key identical to the one its generate looks up.
 */
export function createJobPreparer(generator: Generator, log: Logger) {
  return async function prepareJob(msg: JsMsg): Promise<void> {
    const job = fromBinary(GenerateJobSchema, msg.data);
    if (!job.spec) return;
    const started = performance.now();
    await generator.prepare(toGenerationSpec(job.spec));
    log.info(
      { task_id: job.taskId, attempt: job.attempt, prepare_ms: Math.round(performance.now() - started) },
      "next job held and prepared",
    );
  };
}
