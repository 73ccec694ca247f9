import assert from "node:assert/strict";
import { test } from "node:test";
import { referenceManifest } from "../reference/build-reference-model.js";
import { flowSigmas, selectExpert } from "./flow-schedule.js";
import { latentFrameCount } from "./spec-check.js";
import { tokenizeBatch } from "./tokenizer.js";

test("flow sigmas run from 1 to 0, decreasing, and shift pushes them up", () => {
  const s = flowSigmas(10, 5);
  assert.equal(s.length, 11);
  assert.equal(s[0], 1);
  assert.equal(s[10], 0);
  for (let i = 1; i < s.length; i++) assert.ok((s[i] ?? 0) < (s[i - 1] ?? 0));
  assert.ok((flowSigmas(10, 5)[5] ?? 0) > (flowSigmas(10, 1)[5] ?? 0));
});

test("experts switch at the boundary: high-noise at and above it, low-noise below", () => {
  const m = referenceManifest();
  const b = m.sampler.boundaryTimestep;
  assert.equal(selectExpert(m.components.denoisers, 1000, m.sampler).name, "high_noise");
  assert.equal(selectExpert(m.components.denoisers, b, m.sampler).name, "high_noise");
  assert.equal(selectExpert(m.components.denoisers, b - 0.01, m.sampler).name, "low_noise");
  assert.equal(selectExpert(m.components.denoisers, 0, m.sampler).name, "low_noise");
});

test("latent frame count follows 1 + ceil((n - 1) / 4)", () => {
  assert.equal(latentFrameCount(1, 4), 1);
  assert.equal(latentFrameCount(72, 4), 19);
  assert.equal(latentFrameCount(81, 4), 21);
  assert.equal(latentFrameCount(300, 4), 76);
});

test("the tokenizer takes any Unicode, pads, truncates and masks", () => {
  const spec = referenceManifest().tokenizer;
  const t = tokenizeBatch(["猫 🐈 café", "", "x".repeat(1000)], spec);
  assert.equal(t.ids.length, 3 * spec.maxLength);
  const row = (b: number): bigint[] => Array.from(t.ids.subarray(b * spec.maxLength, (b + 1) * spec.maxLength));
  const maskRow = (b: number): bigint[] => Array.from(t.mask.subarray(b * spec.maxLength, (b + 1) * spec.maxLength));
  assert.equal(row(0)[0], BigInt(spec.bosId));
  const bytes = new TextEncoder().encode("猫 🐈 café").length;
  assert.equal(row(0)[bytes + 1], BigInt(spec.eosId));
  assert.equal(maskRow(0).filter((v) => v === 1n).length, bytes + 2);
  assert.deepEqual(row(1).slice(0, 3), [BigInt(spec.bosId), BigInt(spec.eosId), BigInt(spec.padId)]);
  assert.ok(
    maskRow(2).every((v) => v === 1n),
    "a long prompt fills the whole window",
  );
  assert.ok(row(0).every((v) => v >= 0n && v < BigInt(spec.vocabSize)));
  // NFC: composed and decomposed forms tokenize the same.
  const a = tokenizeBatch(["caf\u00e9"], spec).ids;
  const b = tokenizeBatch(["cafe\u0301"], spec).ids;
  assert.deepEqual(a, b);
});
