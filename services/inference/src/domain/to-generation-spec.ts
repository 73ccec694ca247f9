import type { GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { GenerationSpec } from "@t2v/model";
import { draftSteps } from "./draft-steps.js";

/**
 * Maps the wire spec of a job onto the model runtime's spec. A draft without
 * steps of its own runs a quarter of `defaultSteps` (the model's); without
 * them (text encoding ahead, which ignores steps) the model's default applies.
 */
export function toGenerationSpec(s: JobSpec, defaultSteps?: number): GenerationSpec {
  const steps = s.steps > 0 ? s.steps : s.draft && defaultSteps ? draftSteps(defaultSteps) : 0;
  return {
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    width: s.width,
    height: s.height,
    numFrames: s.numFrames,
    frameRate: s.frameRate,
    seed: s.seed,
    ...(steps > 0 ? { steps } : {}),
  };
}
