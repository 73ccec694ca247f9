import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeLatents, encodeLatents } from "./latents-codec.js";

test("latents round-trip through the binary form, including from an unaligned view", () => {
  const data = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => Math.sin(i) * 1e3);
  data[0] = -0;
  data[1] = Number.MIN_VALUE;
  const blob = encodeLatents({ dims: [2, 3, 4, 5], data });
  assert.equal(blob.byteLength, 8 + 16 + data.length * 4);
  const shifted = new Uint8Array(blob.byteLength + 1);
  shifted.set(blob, 1);
  const back = decodeLatents(shifted.subarray(1));
  assert.deepEqual(back.dims, [2, 3, 4, 5]);
  assert.deepEqual(back.data, data);
});

test("corrupt blobs are refused", () => {
  const blob = encodeLatents({ dims: [1, 2], data: Float32Array.from([1, 2]) });
  assert.throws(() => decodeLatents(blob.subarray(0, blob.length - 1)), RangeError);
  const bad = blob.slice();
  bad[0] = 0;
  assert.throws(() => decodeLatents(bad), /magic/);
  assert.throws(() => encodeLatents({ dims: [3], data: new Float32Array(2) }), RangeError);
});
