import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs } from "./retry-policy.js";

describe("backoffDelayMs", () => {
  const p = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 5000 };
  it("doubles the ceiling per attempt, jittered within its upper half", () => {
    assert.equal(backoffDelayMs(p, 1, 0), 500);
    assert.equal(backoffDelayMs(p, 1, 0.999), 1000);
    assert.equal(backoffDelayMs(p, 2, 0), 1000);
    assert.equal(backoffDelayMs(p, 3, 0), 2000);
  });
  it("caps the delay", () => {
    assert.ok(backoffDelayMs(p, 10, 0.999) <= 5000);
  });
});
