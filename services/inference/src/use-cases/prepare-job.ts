import type { GenerateJob } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import type { GeneratorEngine } from "../adapters/generator-engine.js";
import { toGenerationSpec } from "../domain/to-generation-spec.js";

/**
 * Encodes a held job's prompt pair and draws its initial noise in the engine worker (between the
 * running task's steps), so the job starts without either. The exact spec mapping the handler uses keeps the
 * cache key identical to the one its generate looks up.
 */
export function createJobPreparer(generator: Pick<GeneratorEngine, "prepare">, log: Logger) {
  return async function prepareJob(job: GenerateJob): Promise<void> {
    if (!job.spec) return;
    const started = performance.now();
    await generator.prepare(toGenerationSpec(job.spec));
    log.info(
      { task_id: job.taskId, attempt: job.attempt, prepare_ms: Math.round(performance.now() - started) },
      "next job held and prepared",
    );
  };
}
