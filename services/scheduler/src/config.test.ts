import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, readConfig } from "@t2v/common/config";
import { checkSchedulerConfig, schedulerConfig } from "./config.js";

const read = (env: Record<string, string>) => readConfig(schedulerConfig, env, checkSchedulerConfig);

describe("schedulerConfig: TASK_RECORD_RETENTION_DAYS", () => {
  it("keeps task records 30 days by default, and takes a longer setting", () => {
    assert.equal(read({}).taskRecordRetentionDays, 30);
    assert.equal(read({ TASK_RECORD_RETENTION_DAYS: "90" }).taskRecordRetentionDays, 90);
  });

  it("refuses less than 30 days: a request may keep its result that long", () => {
    assert.throws(
      () => read({ TASK_RECORD_RETENTION_DAYS: "29" }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 1 &&
        err.problems[0]?.startsWith("TASK_RECORD_RETENTION_DAYS: 29 is outside 30..3650") === true,
    );
  });

  it("refuses records that would go before the videos they link (VIDEO_TTL_HOURS), naming both and the fix", () => {
    assert.throws(
      () => read({ VIDEO_TTL_HOURS: String(45 * 24 + 1) }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 1 &&
        /^TASK_RECORD_RETENTION_DAYS: 30 days is shorter than VIDEO_TTL_HOURS \(1081 hours\); set it to at least 46$/.test(
          err.problems[0] ?? "",
        ),
    );
    assert.equal(read({ VIDEO_TTL_HOURS: "1081", TASK_RECORD_RETENTION_DAYS: "46" }).taskRecordRetentionDays, 46);
  });
});
