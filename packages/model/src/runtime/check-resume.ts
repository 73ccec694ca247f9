import type { Checkpoint, GenerationSpec } from "../api-types.js";
import { CheckpointMismatchError } from "../errors.js";
import { type CheckpointModel, specHash } from "./checkpoint-key.js";
import type { ResolvedSpec } from "./spec-check.js";

/**
 * Refuses a checkpoint that would not continue this exact clip: another model or version
 * (other weights), another effective spec, or latents of the wrong size. Run on both sides of
 * the worker boundary: the caller gets the error without a round trip, the engine trusts nothing.
 */
export function checkResume(spec: GenerationSpec, resolved: ResolvedSpec, model: CheckpointModel, c: Checkpoint): void {
  if (c.model !== model.name || c.modelVersion !== model.version) {
    throw new CheckpointMismatchError(
      `checkpoint was made by ${c.model}@${c.modelVersion}, this generator runs ${model.name}@${model.version}`,
    );
  }
  if (c.specHash !== specHash(spec, model))
    throw new CheckpointMismatchError("checkpoint was made for another generation spec");
  if (c.totalSteps !== resolved.steps)
    throw new CheckpointMismatchError(
      `checkpoint has ${c.totalSteps} total steps, the spec resolves to ${resolved.steps}`,
    );
  if (!Number.isInteger(c.step) || c.step < 0 || c.step > c.totalSteps)
    throw new CheckpointMismatchError(`checkpoint step ${c.step} is outside 0..${c.totalSteps}`);
  const { channels, frames, height, width } = resolved.shape;
  const want = [channels, frames, height, width];
  if (c.latents.dims.length !== 4 || c.latents.dims.some((d, i) => d !== want[i]))
    throw new CheckpointMismatchError(
      `checkpoint latents are [${c.latents.dims.join(", ")}], the spec needs [${want.join(", ")}]`,
    );
  if (c.latents.data.length !== channels * frames * height * width)
    throw new CheckpointMismatchError("checkpoint latents data length does not match its dims");
}
