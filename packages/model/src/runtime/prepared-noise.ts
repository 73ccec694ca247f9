import { Prng } from "../onnx/prng.js";
import type { LatentShape } from "./spec-check.js";

/** Seeded standard-normal noise in [C, F, H, W] order: the same seed always gives the same clip. */
export function initialNoise(shape: LatentShape, seed: number): Float32Array {
  const rng = new Prng(seed, 1);
  const out = new Float32Array(shape.channels * shape.frames * shape.height * shape.width);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/**
 * The initial noise of the next task, drawn ahead (while another task denoises) so its first
 * step does not wait for it. One entry: the held job's. Taken by the generate it fits, since
 * the sampler denoises it in place; any other generate draws its own.
 */
export class PreparedNoise {
  private entry: { key: string; data: Float32Array } | undefined;

  constructor(private readonly draw: (shape: LatentShape, seed: number) => Float32Array = initialNoise) {}

  prepare(shape: LatentShape, seed: number): void {
    const key = noiseKey(shape, seed);
    if (this.entry?.key !== key) this.entry = { key, data: this.draw(shape, seed) };
  }

  take(shape: LatentShape, seed: number): Float32Array {
    const entry = this.entry;
    if (entry?.key !== noiseKey(shape, seed)) return this.draw(shape, seed);
    this.entry = undefined;
    return entry.data;
  }
}

function noiseKey(shape: LatentShape, seed: number): string {
  return `${seed}:${shape.channels}x${shape.frames}x${shape.height}x${shape.width}`;
}
