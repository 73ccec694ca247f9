import type { DecodeTarget, GenerationSpec, Latents, PromptPair } from "../api-types.js";
import { ModelInputError } from "../errors.js";
import type { ModelManifest } from "../manifest.js";

export interface LatentShape {
  channels: number;
  frames: number;
  height: number;
  width: number;
}

export interface ResolvedSpec {
  shape: LatentShape;
  steps: number;
  /** The spec's override; when undefined each expert's own (or the sampler's) scale applies. */
  guidanceScale: number | undefined;
}

const MAX_STEPS = 200;

/** Latent frames for a clip, as in Wan's causal VAE: the first frame alone, then one per `tc` frames. */
export function latentFrameCount(numFrames: number, temporalCompression: number): number {
  return 1 + Math.ceil((numFrames - 1) / temporalCompression);
}

/** Largest frame count the model accepts at a frame rate (duration limit plus the leading frame of the 4k+1 convention). */
export function maxFramesAt(frameRate: number, m: ModelManifest): number {
  return Math.floor(m.maxDurationSeconds * frameRate) + 1;
}

/** Rejects specs the model cannot serve with ModelInputError (permanent), naming the field. */
export function resolveGenerationSpec(spec: GenerationSpec, m: ModelManifest): ResolvedSpec {
  if (typeof spec.prompt !== "string") throw new ModelInputError("prompt must be a string");
  if (typeof spec.negativePrompt !== "string") throw new ModelInputError("negativePrompt must be a string");
  if (!m.resolutions.some((r) => r.width === spec.width && r.height === spec.height)) {
    const list = m.resolutions.map((r) => `${r.width}x${r.height}`).join(", ");
    throw new ModelInputError(
      `resolution ${spec.width}x${spec.height} is not supported by ${m.name} (supported: ${list})`,
    );
  }
  if (!m.frameRates.includes(spec.frameRate)) {
    throw new ModelInputError(
      `frameRate ${spec.frameRate} is not supported by ${m.name} (supported: ${m.frameRates.join(", ")})`,
    );
  }
  const maxFrames = maxFramesAt(spec.frameRate, m);
  if (!Number.isInteger(spec.numFrames) || spec.numFrames < 1 || spec.numFrames > maxFrames) {
    throw new ModelInputError(
      `numFrames must be an integer in 1..${maxFrames} at ${spec.frameRate} fps (max ${m.maxDurationSeconds} s), got ${spec.numFrames}`,
    );
  }
  if (!Number.isSafeInteger(spec.seed) || spec.seed < 0)
    throw new ModelInputError(`seed must be a non-negative safe integer, got ${spec.seed}`);
  const steps = spec.steps ?? m.sampler.defaultSteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS)
    throw new ModelInputError(`steps must be an integer in 1..${MAX_STEPS}, got ${steps}`);
  const guidanceScale = spec.guidanceScale;
  if (guidanceScale !== undefined && (!Number.isFinite(guidanceScale) || guidanceScale < 0 || guidanceScale > 50)) {
    throw new ModelInputError(`guidanceScale must be in 0..50, got ${guidanceScale}`);
  }
  const s = m.latent.spatialCompression;
  return {
    shape: {
      channels: m.latent.channels,
      frames: latentFrameCount(spec.numFrames, m.latent.temporalCompression),
      height: spec.height / s,
      width: spec.width / s,
    },
    steps,
    guidanceScale,
  };
}

/** Checks that latents fit the model and the target frame size/count. */
export function checkDecodeRequest(latents: Latents, target: DecodeTarget, m: ModelManifest): LatentShape {
  const [channels, frames, height, width] = latents.dims;
  if (
    latents.dims.length !== 4 ||
    channels === undefined ||
    frames === undefined ||
    height === undefined ||
    width === undefined
  ) {
    throw new ModelInputError(
      `latents must have 4 dims [channels, frames, height, width], got [${latents.dims.join(", ")}]`,
    );
  }
  if (channels !== m.latent.channels)
    throw new ModelInputError(`latents have ${channels} channels, ${m.name} uses ${m.latent.channels}`);
  if (latents.data.length !== channels * frames * height * width)
    throw new ModelInputError("latents data length does not match dims");
  const s = m.latent.spatialCompression;
  if (target.width !== width * s || target.height !== height * s) {
    throw new ModelInputError(
      `target ${target.width}x${target.height} does not match latents ${width}x${height} at ${s}x spatial compression`,
    );
  }
  const available = 1 + m.latent.temporalCompression * (frames - 1);
  if (!Number.isInteger(target.numFrames) || target.numFrames < 1 || target.numFrames > available) {
    throw new ModelInputError(
      `numFrames must be in 1..${available} for ${frames} latent frames, got ${target.numFrames}`,
    );
  }
  return { channels, frames, height, width };
}

/** Whether `prepare` was given a whole spec (its noise can be drawn ahead), not only the texts. */
export function isWholeSpec(next: PromptPair | GenerationSpec): next is GenerationSpec {
  return "seed" in next && "width" in next && "height" in next && "numFrames" in next;
}
