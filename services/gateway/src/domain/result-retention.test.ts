import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { retentionPolicyOf } from "@t2v/common/task";
import { expireUnix, linkSecondsAt, MAX_LINK_SECONDS, resultStateAt } from "./result-retention.js";

const T0 = 1_800_000_000;
const record = (status: TaskStatus, retentionS?: number, video = "t.mp4") =>
  create(TaskRecordSchema, {
    videoObject: video,
    task: { taskId: "t", status, finishTime: timestampFromMs(T0 * 1000) },
    request: retentionS === undefined ? {} : { retention: durationFromMs(retentionS * 1000) },
  });

describe("result retention (pure)", () => {
  const s3 = retentionPolicyOf(168, "s3");
  const nats = retentionPolicyOf(168, "nats");

  it("expires at finish + the request's retention, else VIDEO_TTL_HOURS; JetStream caps it at its bucket TTL", () => {
    assert.equal(expireUnix(record(TaskStatus.COMPLETED), s3), T0 + 168 * 3600);
    assert.equal(expireUnix(record(TaskStatus.COMPLETED, 3600), s3), T0 + 3600);
    assert.equal(expireUnix(record(TaskStatus.COMPLETED, 30 * 86400), s3), T0 + 30 * 86400);
    assert.equal(expireUnix(record(TaskStatus.COMPLETED, 30 * 86400), nats), T0 + 168 * 3600);
    assert.equal(expireUnix(record(TaskStatus.PROCESSING), s3), null, "no expiry while it runs");
  });

  it("reads AVAILABLE, then EXPIRED at the expire time; DELETED wins; nothing before COMPLETED with a video", () => {
    const r = record(TaskStatus.COMPLETED, 3600);
    assert.equal(resultStateAt(r, T0 + 3599, s3), ResultState.AVAILABLE);
    assert.equal(resultStateAt(r, T0 + 3600, s3), ResultState.EXPIRED);
    if (r.task) r.task.resultState = ResultState.DELETED;
    assert.equal(resultStateAt(r, T0, s3), ResultState.DELETED);
    assert.equal(resultStateAt(record(TaskStatus.FAILED), T0, s3), ResultState.UNSPECIFIED);
    assert.equal(resultStateAt(record(TaskStatus.COMPLETED, undefined, ""), T0, s3), ResultState.UNSPECIFIED);
  });

  it("a link lives RESULT_URL_TTL_SECONDS, never past the expiry, at most 7 days, at least 1 s", () => {
    assert.equal(linkSecondsAt(T0, T0 + 30 * 86400, 86400), 86400);
    assert.equal(linkSecondsAt(T0, T0 + 600, 86400), 600);
    assert.equal(linkSecondsAt(T0, T0 + 30 * 86400, 30 * 86400), MAX_LINK_SECONDS);
    assert.equal(linkSecondsAt(T0, T0, 86400), 1);
  });
});
