import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { generateJobFor, isDispatchable } from "./dispatch-job.js";

const rec = (status: TaskStatus, attempt = 1, dispatchedAttempt = 0) =>
  create(TaskRecordSchema, {
    task: {
      taskId: "t",
      status,
      attempt,
      params: { prompt: "p", width: 832, height: 480, numFrames: 72, frameRate: 24, seed: 7 },
    },
    pool: "vip",
    dispatchedAttempt,
  });

describe("isDispatchable", () => {
  it("is true only for a queued attempt not yet sent", () => {
    assert.equal(isDispatchable(rec(TaskStatus.QUEUED)), true);
    assert.equal(isDispatchable(rec(TaskStatus.QUEUED, 2, 1)), true);
    assert.equal(isDispatchable(rec(TaskStatus.QUEUED, 1, 1)), false);
    assert.equal(isDispatchable(rec(TaskStatus.PROCESSING)), false);
    assert.equal(isDispatchable(rec(TaskStatus.CANCELLED)), false);
  });
});

describe("generateJobFor", () => {
  it("carries the task's parameters and attempt", () => {
    const job = generateJobFor(rec(TaskStatus.QUEUED, 2, 1));
    assert.equal(job.taskId, "t");
    assert.equal(job.attempt, 2);
    assert.equal(job.spec?.numFrames, 72);
    assert.equal(job.spec?.seed, 7);
    assert.equal(job.spec?.width, 832);
  });
});
