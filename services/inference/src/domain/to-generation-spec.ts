import type { GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { GenerationSpec } from "@t2v/model";

/** Maps the wire spec of a job onto the model runtime's spec. */
export function toGenerationSpec(s: JobSpec): GenerationSpec {
  return {
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    width: s.width,
    height: s.height,
    numFrames: s.numFrames,
    frameRate: s.frameRate,
    seed: s.seed,
    ...(s.steps > 0 ? { steps: s.steps } : {}),
  };
}
