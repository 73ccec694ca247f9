import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { webhookRetryDelayMs } from "./webhook-backoff.js";

describe("webhookRetryDelayMs", () => {
  it("follows the schedule and stays at 10 h", () => {
    assert.equal(webhookRetryDelayMs(1), 5_000);
    assert.equal(webhookRetryDelayMs(2), 300_000);
    assert.equal(webhookRetryDelayMs(6), 36_000_000);
    assert.equal(webhookRetryDelayMs(20), 36_000_000);
    // The default 12 attempts wait 11 times: close to three days.
    const total = Array.from({ length: 11 }, (_, i) => webhookRetryDelayMs(i + 1)).reduce((a, b) => a + b);
    assert.ok(total > 2.5 * 24 * 3600_000 && total < 3 * 24 * 3600_000, `${total / 3600_000} h`);
  });
  it("scales for tests", () => {
    assert.equal(webhookRetryDelayMs(1, 0.01), 50);
  });
});
