import { create } from "@bufbuild/protobuf";
import { type GenerateJob, GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** True when the record is queued and its current attempt has not been sent to a worker yet. */
export function isDispatchable(r: TaskRecord): boolean {
  const t = r.task;
  return !!t?.params && t.status === TaskStatus.QUEUED && r.dispatchedAttempt !== t.attempt;
}

/** The GenerateJob for a record's current attempt. Pure. */
export function generateJobFor(r: TaskRecord): GenerateJob {
  const t = r.task;
  const p = t?.params;
  if (!t || !p) throw new Error("task record without parameters");
  return create(GenerateJobSchema, {
    taskId: t.taskId,
    attempt: t.attempt,
    spec: {
      // The style's template applied (older records have only the caller's prompts).
      prompt: p.effectivePrompt || p.prompt,
      negativePrompt: p.effectivePrompt ? p.effectiveNegativePrompt : p.negativePrompt,
      width: p.width,
      height: p.height,
      numFrames: p.numFrames,
      frameRate: p.frameRate,
      seed: p.seed,
      steps: r.requestedSteps,
      draft: p.draft,
      previewEverySteps: p.previewEverySteps,
    },
  });
}
