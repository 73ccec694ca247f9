import assert from "node:assert/strict";
import { test } from "node:test";
import { initialNoise, PreparedNoise } from "./prepared-noise.js";
import type { LatentShape } from "./spec-check.js";

const shape: LatentShape = { channels: 4, frames: 2, height: 3, width: 5 };

test("prepared noise is the seed's own noise, handed to the generate it fits once", () => {
  const draws: number[] = [];
  const noise = new PreparedNoise((s, seed) => {
    draws.push(seed);
    return initialNoise(s, seed);
  });
  noise.prepare(shape, 7);
  noise.prepare(shape, 7);
  assert.deepEqual(draws, [7], "the same seed and size is drawn once");
  const taken = noise.take(shape, 7);
  assert.deepEqual(taken, initialNoise(shape, 7), "bit-identical to noise drawn at the start");
  assert.deepEqual(draws, [7], "the prepared noise was used, not drawn again");
  taken.fill(0); // the sampler denoises it in place
  assert.deepEqual(noise.take(shape, 7), initialNoise(shape, 7), "a second generate draws its own");
  assert.deepEqual(draws, [7, 7]);
});

test("noise prepared for another seed or size is not used, and the newest preparation wins", () => {
  const draws: string[] = [];
  const noise = new PreparedNoise((s, seed) => {
    draws.push(`${seed}/${s.frames}`);
    return initialNoise(s, seed);
  });
  noise.prepare(shape, 1);
  assert.deepEqual(noise.take(shape, 2), initialNoise(shape, 2));
  assert.deepEqual(noise.take({ ...shape, frames: 3 }, 1), initialNoise({ ...shape, frames: 3 }, 1));
  noise.prepare(shape, 3);
  assert.deepEqual(noise.take(shape, 3), initialNoise(shape, 3));
  assert.deepEqual(noise.take(shape, 1), initialNoise(shape, 1), "seed 1's was replaced by seed 3's");
  assert.deepEqual(draws, ["1/2", "2/2", "1/3", "3/2", "1/2"]);
});
