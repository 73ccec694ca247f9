import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Checkpoint } from "../api-types.js";
import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint-codec.js";

function sample(dims: number[], fill: (i: number) => number): Checkpoint {
  const count = dims.reduce((a, b) => a * b, 1);
  return {
    specHash: "ab".repeat(32),
    model: "wan-tiny",
    modelVersion: "0.1.0",
    step: 3,
    totalSteps: 10,
    latents: { dims, data: Float32Array.from({ length: count }, (_, i) => fill(i)) },
    denoiseSeconds: 1.25,
  };
}

test("checkpoints round-trip bit for bit, including from an unaligned view", () => {
  const c = sample([2, 3, 4, 5], (i) => Math.sin(i) * 1e3);
  c.latents.data[0] = -0;
  c.latents.data[1] = Number.NaN;
  c.latents.data[2] = Number.MIN_VALUE;
  const blob = encodeCheckpoint(c);
  const shifted = new Uint8Array(blob.byteLength + 1);
  shifted.set(blob, 1);
  const back = decodeCheckpoint(shifted.subarray(1));
  assert.deepEqual({ ...back, latents: undefined }, { ...c, latents: undefined });
  assert.deepEqual(back.latents.dims, c.latents.dims);
  assert.ok(
    Buffer.from(back.latents.data.buffer).equals(Buffer.from(c.latents.data.buffer)),
    "float bits are preserved (NaN and -0 included)",
  );
});

test("any metadata and any float bits survive the codec", () => {
  fc.assert(
    fc.property(
      fc.record({
        specHash: fc.string(),
        model: fc.string(),
        modelVersion: fc.string(),
        step: fc.nat(1000),
        totalSteps: fc.nat(1000),
        denoiseSeconds: fc.double({ noNaN: true, noDefaultInfinity: true }),
        dims: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
        seed: fc.integer(),
      }),
      (r) => {
        const count = r.dims.reduce((a, b) => a * b, 1);
        const bits = Uint32Array.from({ length: count }, (_, i) => (Math.imul(r.seed ^ i, 2654435761) >>> 0) ^ i);
        const c: Checkpoint = { ...r, latents: { dims: r.dims, data: new Float32Array(bits.buffer) } };
        const back = decodeCheckpoint(encodeCheckpoint(c));
        assert.equal(back.specHash, r.specHash);
        assert.equal(back.model, r.model);
        assert.equal(back.step, r.step);
        assert.equal(
          Object.is(back.denoiseSeconds, r.denoiseSeconds) || back.denoiseSeconds === r.denoiseSeconds,
          true,
        );
        assert.deepEqual(back.latents.dims, r.dims);
        assert.deepEqual(new Uint32Array(back.latents.data.buffer), bits);
      },
    ),
  );
});

test("a damaged, truncated or foreign blob is refused", () => {
  const blob = encodeCheckpoint(sample([4, 4], (i) => i / 7));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: blob.length - 1 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
      const bad = blob.slice();
      bad[at] = (bad[at] as number) ^ (1 << bit);
      assert.throws(() => decodeCheckpoint(bad), RangeError);
    }),
  );
  assert.throws(() => decodeCheckpoint(blob.subarray(0, blob.length - 1)), /checksum|short|truncated/);
  assert.throws(() => decodeCheckpoint(blob.subarray(0, 8)), /short/);
  const wrongMagic = blob.slice();
  wrongMagic[0] = 0;
  assert.throws(() => decodeCheckpoint(wrongMagic), /magic/);
  const wrongVersion = blob.slice();
  wrongVersion[4] = 9;
  assert.throws(() => decodeCheckpoint(wrongVersion), /version 9/);
  assert.throws(
    () => encodeCheckpoint({ ...sample([3], () => 0), latents: { dims: [3], data: new Float32Array(2) } }),
    RangeError,
  );
});
