import { createHash } from "node:crypto";
import type { GenerationSpec, ModelInfo } from "../api-types.js";

/** The model fields a checkpoint depends on: `defaultSteps` decides the effective step count. */
export type CheckpointModel = Pick<ModelInfo, "name" | "version" | "defaultSteps">;

// Bump when the meaning of a denoising state changes (another sampler, another noise layout), so
// older checkpoints stop matching instead of resuming into a different clip.
const STATE_FORMAT = "t2v-denoise-state/1";

/**
 * SHA-256 (hex) of the effective spec: every field the denoised latents depend on, with the
 * default step count resolved, in a fixed field order. Two specs that denoise the same way hash
 * the same (an omitted `steps` equals the model's default).
 */
export function specHash(spec: GenerationSpec, model: CheckpointModel): string {
  const effective = [
    STATE_FORMAT,
    spec.prompt,
    spec.negativePrompt,
    spec.width,
    spec.height,
    spec.numFrames,
    spec.frameRate,
    spec.seed,
    spec.steps ?? model.defaultSteps,
    spec.guidanceScale ?? null,
  ];
  return createHash("sha256").update(JSON.stringify(effective)).digest("hex");
}

/** Object-store key for a clip's checkpoint: a hash of the effective spec and the model name+version. */
export function checkpointKey(spec: GenerationSpec, model: CheckpointModel): string {
  return createHash("sha256")
    .update(JSON.stringify([model.name, model.version, specHash(spec, model)]))
    .digest("hex");
}
