import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { GIB, mayStoreMore, videoBytesExceeded, windowPastDays } from "./video-bytes-quota.js";

describe("video byte cap", () => {
  it("admits only while the stored bytes are under the cap; a cap of 0 refuses every task", () => {
    assert.equal(mayStoreMore(2 * GIB - 1, 2 * GIB), true);
    assert.equal(mayStoreMore(2 * GIB, 2 * GIB), false);
    assert.equal(mayStoreMore(3 * GIB, 2 * GIB), false, "a cap lowered below what is stored");
    assert.equal(mayStoreMore(0, 0), false);
  });

  it("sums as many earlier days as the longest retention spans, within what the counts keep", () => {
    assert.equal(windowPastDays(168 * 3600, 30), 7, "VIDEO_TTL_HOURS 168 on JetStream");
    assert.equal(windowPastDays(30 * 86_400, 30), 30, "a request's 30 days");
    assert.equal(windowPastDays(36 * 3600, 30), 2, "a part day counts whole");
    assert.equal(windowPastDays(90 * 86_400, 30), 30, "no further back than the counts are kept");
  });

  it("refuses with QuotaFailure naming the cap, ErrorInfo VIDEO_BYTES_EXCEEDED and RetryInfo until midnight UTC", () => {
    const err = videoBytesExceeded("acme", "standard", 2 * GIB, 2 * GIB + 5, 8, Date.UTC(2026, 11, 1, 18, 30));
    assert.equal(err.code, Code.ResourceExhausted);
    assert.match(err.rawMessage, /2 GiB of 2 GiB .* last 8 days on the standard tier/);
    assert.deepEqual(
      err.findDetails(QuotaFailureSchema)[0]?.violations.map((v) => [v.subject, v.description]),
      [["tenant:acme", "2 GiB of stored videos and posters (completed in the last 8 days, standard tier)"]],
    );
    const [info] = err.findDetails(ErrorInfoSchema);
    assert.equal(info?.reason, "VIDEO_BYTES_EXCEEDED");
    assert.deepEqual(info?.metadata, {
      tier: "standard",
      limit_bytes: String(2 * GIB),
      stored_bytes: String(2 * GIB + 5),
      window_days: "8",
    });
    assert.equal(Number(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds), 5.5 * 3600);
  });
});
