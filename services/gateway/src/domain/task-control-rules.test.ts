import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { pauseRecord, reprioritiseRecord, resumeRecord } from "./task-control-rules.js";

const rec = (status: TaskStatus, dispatched = false, attempt = 1): TaskRecord =>
  create(TaskRecordSchema, {
    task: { taskId: "t", status, attempt, currentStep: 3, priority: 0 },
    dispatchedAttempt: dispatched ? attempt : attempt - 1,
  });

const changed = (o: ReturnType<typeof pauseRecord>): TaskRecord => {
  assert.equal(o.kind, "changed");
  return o.kind === "changed" ? o.record : assert.fail();
};

describe("task control rules", () => {
  it("pause: queued and running tasks, until now + ttl, keeping attempt and progress", () => {
    for (const status of [TaskStatus.QUEUED, TaskStatus.PROCESSING]) {
      const r = changed(pauseRecord(rec(status, true), 1_000, 60_000));
      assert.equal(r.task?.status, TaskStatus.PAUSED);
      assert.equal(r.task?.attempt, 1);
      assert.equal(r.task?.currentStep, 3);
      assert.equal(r.task?.pauseExpireTime && timestampMs(r.task.pauseExpireTime), 61_000);
    }
    assert.equal(pauseRecord(rec(TaskStatus.PAUSED), 1, 1).kind, "unchanged");
    const encoding = pauseRecord(rec(TaskStatus.ENCODING), 1, 1);
    assert.equal(encoding.kind === "refused" && encoding.code, "TASK_ENCODING");
    for (const s of [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]) {
      const o = pauseRecord(rec(s), 1, 1);
      assert.equal(o.kind === "refused" && o.code, "TASK_ENDED");
    }
  });

  it("resume: queued again; a fresh, unbilled attempt only when the paused one had been sent to a worker", () => {
    const paused = (dispatched: boolean) => changed(pauseRecord(rec(TaskStatus.QUEUED, dispatched), 1, 1));
    const notSent = changed(resumeRecord(paused(false), 2));
    assert.equal(notSent.task?.status, TaskStatus.QUEUED);
    assert.equal(notSent.task?.attempt, 1);
    assert.equal(notSent.task?.pauseExpireTime, undefined);
    const sent = changed(resumeRecord(paused(true), 2));
    assert.equal(sent.task?.attempt, 2);
    assert.equal(sent.yieldedAttempts, 1);
    assert.equal(resumeRecord(rec(TaskStatus.QUEUED), 1).kind, "unchanged");
    assert.equal(resumeRecord(rec(TaskStatus.PROCESSING), 1).kind, "unchanged");
    assert.equal(resumeRecord(rec(TaskStatus.COMPLETED), 1).kind, "refused");
  });

  it("priority: any task that has not ended", () => {
    assert.equal(changed(reprioritiseRecord(rec(TaskStatus.PAUSED), 9, 1)).task?.priority, 9);
    assert.equal(reprioritiseRecord(rec(TaskStatus.QUEUED), 0, 1).kind, "unchanged");
    assert.equal(reprioritiseRecord(rec(TaskStatus.CANCELLED), 9, 1).kind, "refused");
  });
});
