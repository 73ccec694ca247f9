import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { roomToday, storedTasksExceeded } from "./stored-task-quota.js";

describe("stored-task quota", () => {
  it("leaves today what the earlier days of the window did not use, never less than nothing", () => {
    assert.equal(roomToday(100, 30), 70);
    assert.equal(roomToday(100, 100), 0);
    assert.equal(roomToday(100, 250), 0, "a cap lowered below what is stored");
    assert.equal(roomToday(0, 0), 0);
  });

  it("refuses with QuotaFailure naming the limit, ErrorInfo STORED_TASKS_EXCEEDED and RetryInfo until midnight UTC", () => {
    const err = storedTasksExceeded("acme", "standard", 20000, 31, Date.UTC(2026, 11, 1, 18, 30));
    assert.equal(err.code, Code.ResourceExhausted);
    assert.deepEqual(
      err.findDetails(QuotaFailureSchema)[0]?.violations.map((v) => [v.subject, v.description]),
      [["tenant:acme", "20000 stored tasks (created in the last 31 days, standard tier)"]],
    );
    const [info] = err.findDetails(ErrorInfoSchema);
    assert.equal(info?.reason, "STORED_TASKS_EXCEEDED");
    assert.deepEqual(info?.metadata, { tier: "standard", limit: "20000", window_days: "31" });
    assert.equal(Number(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds), 5.5 * 3600);
  });
});
