import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { dailyQuotaExceeded, msUntilNextUtcDay } from "./daily-quota.js";

describe("daily quota", () => {
  it("resets at the next UTC midnight", () => {
    assert.equal(msUntilNextUtcDay(Date.UTC(2026, 11, 1, 23, 0)), 3_600_000);
    assert.equal(msUntilNextUtcDay(Date.UTC(2026, 11, 1)), 86_400_000);
    assert.equal(msUntilNextUtcDay(Date.UTC(2026, 11, 31, 23, 59, 59, 999)), 1_000, "never less than a second");
  });

  it("refuses with QuotaFailure, ErrorInfo DAILY_QUOTA_EXCEEDED and RetryInfo until midnight UTC", () => {
    const now = Date.UTC(2026, 11, 1, 18, 30);
    const err = dailyQuotaExceeded("acme", "standard", 5000, now);
    assert.equal(err.code, Code.ResourceExhausted);
    const [quota] = err.findDetails(QuotaFailureSchema);
    assert.deepEqual(
      quota?.violations.map((v) => [v.subject, v.description]),
      [["tenant:acme", "5000 tasks per UTC day (standard tier)"]],
    );
    const [info] = err.findDetails(ErrorInfoSchema);
    assert.equal(info?.reason, "DAILY_QUOTA_EXCEEDED");
    assert.deepEqual(info?.metadata, { tier: "standard", limit: "5000", resets_at: "2026-12-02T00:00:00.000Z" });
    const [retry] = err.findDetails(RetryInfoSchema);
    assert.equal(Number(retry?.retryDelay?.seconds), 5.5 * 3600);
    assert.match(err.rawMessage, /5000 tasks per UTC day/);
  });
});
