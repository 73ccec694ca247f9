import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BucketState, takeToken } from "./token-bucket.js";

describe("takeToken", () => {
  const rate = { perMinute: 60, burst: 3 };

  it("allows a burst, then refuses with the time until the next token", () => {
    let s: BucketState | undefined;
    for (let i = 0; i < 3; i++) {
      const r = takeToken(s, rate, 0);
      assert.ok(r.ok);
      s = r.state;
    }
    const r = takeToken(s, rate, 0);
    assert.equal(r.ok, false);
    assert.equal(r.ok ? 0 : r.retryAfterMs, 1000);
  });

  it("refills at the rate, up to the burst", () => {
    const empty = { tokens: 0, at: 0 };
    assert.equal(takeToken(empty, rate, 999).ok, false);
    assert.equal(takeToken(empty, rate, 1000).ok, true);
    const r = takeToken(empty, rate, 3_600_000);
    assert.ok(r.ok);
    assert.equal(r.state.tokens, 2);
  });
});
