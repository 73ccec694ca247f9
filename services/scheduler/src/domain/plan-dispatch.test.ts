import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { planDispatch } from "./plan-dispatch.js";

const now = timestampFromMs(10_000);
const rec = (status: TaskStatus, attempt = 1) =>
  create(TaskRecordSchema, {
    task: {
      taskId: "t",
      status,
      attempt,
      params: { prompt: "p", width: 832, height: 480, numFrames: 72, frameRate: 24, seed: 7 },
    },
    pool: "vip",
  });
const sub = (attempt = 1, notBeforeMs?: number) =>
  create(TaskSubmittedSchema, {
    taskId: "t",
    attempt,
    ...(notBeforeMs ? { notBefore: timestampFromMs(notBeforeMs) } : {}),
  });

describe("planDispatch", () => {
  it("dispatches a queued task to its pool with its parameters", () => {
    const d = planDispatch(rec(TaskStatus.QUEUED), sub(), now);
    assert.equal(d.kind, "dispatch");
    if (d.kind !== "dispatch") return;
    assert.equal(d.pool, "vip");
    assert.equal(d.job.spec?.numFrames, 72);
    assert.equal(d.job.spec?.seed, 7);
    assert.equal(d.job.attempt, 1);
  });
  it("waits out a retry's backoff", () => {
    assert.deepEqual(planDispatch(rec(TaskStatus.QUEUED), sub(1, 12_500), now), { kind: "wait", delayMs: 2_500 });
  });
  it("waits when the record lags a newer attempt's submission", () => {
    assert.equal(planDispatch(rec(TaskStatus.QUEUED, 1), sub(2), now).kind, "wait");
  });
  it("drops missing, ended, running and stale submissions", () => {
    assert.equal(planDispatch(null, sub(), now).kind, "drop");
    assert.equal(planDispatch(rec(TaskStatus.CANCELLED), sub(), now).kind, "drop");
    assert.equal(planDispatch(rec(TaskStatus.PROCESSING), sub(), now).kind, "drop");
    assert.equal(planDispatch(rec(TaskStatus.QUEUED, 2), sub(1), now).kind, "drop");
  });
});
