import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { mayRepublish, reconcileTask } from "./reconcile-task.js";

const policy = { stallTimeoutMs: 1_000, dispatchTimeoutMs: 5_000, republishAfterMs: 500, duplicateWindowMs: 600_000 };
const rec = (
  status: TaskStatus,
  updateMs: number,
  extra: { deadlineMs?: number; dispatched?: boolean; startDeadlineMs?: number; startedMs?: number } = {},
) =>
  create(TaskRecordSchema, {
    task: {
      taskId: "t",
      status,
      attempt: 1,
      updateTime: timestampFromMs(updateMs),
      ...(extra.deadlineMs !== undefined ? { deadline: timestampFromMs(extra.deadlineMs) } : {}),
      ...(extra.startDeadlineMs !== undefined ? { startDeadline: timestampFromMs(extra.startDeadlineMs) } : {}),
      ...(extra.startedMs !== undefined ? { startTime: timestampFromMs(extra.startedMs) } : {}),
    },
    dispatchedAttempt: extra.dispatched ? 1 : 0,
    dispatchedGroup: extra.dispatched ? "standard" : "",
  });

describe("reconcileTask", () => {
  it("fails tasks past their deadline", () => {
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { deadlineMs: 100 }), 101, policy).kind, "deadline");
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { deadlineMs: 100 }), 99, policy).kind, "none");
  });
  it("times out tasks never started by their start deadline, queued or dispatched, and only those", () => {
    const p = { ...policy, dispatchTimeoutMs: 1_000_000 };
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { startDeadlineMs: 100 }), 101, p).kind, "startTimeout");
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { startDeadlineMs: 100 }), 99, p).kind, "none");
    const held = rec(TaskStatus.QUEUED, 0, { startDeadlineMs: 100, dispatched: true });
    assert.equal(reconcileTask(held, 101, p).kind, "startTimeout", "a prefetched job not started yet");
    const retry = rec(TaskStatus.QUEUED, 0, { startDeadlineMs: 100, startedMs: 50 });
    assert.equal(reconcileTask(retry, 101, p).kind, "none", "a retry of a task that started once");
    assert.equal(reconcileTask(rec(TaskStatus.PROCESSING, 100, { startDeadlineMs: 100 }), 101, p).kind, "none");
  });
  it("retries running tasks with no progress", () => {
    assert.equal(reconcileTask(rec(TaskStatus.PROCESSING, 0), 1_001, policy).kind, "stalled");
    assert.equal(reconcileTask(rec(TaskStatus.ENCODING, 0), 1_001, policy).kind, "none", "may wait for an encoder");
    assert.equal(reconcileTask(rec(TaskStatus.ENCODING, 0), 5_001, policy).kind, "stalled");
    assert.equal(reconcileTask(rec(TaskStatus.PROCESSING, 0), 999, policy).kind, "none");
  });
  it("re-publishes a dispatched job nobody started, inside the duplicate window", () => {
    const p = { ...policy, dispatchTimeoutMs: 1_000_000 };
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 400, p).kind, "none");
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 501, p).kind, "republish");
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 550_000, p).kind, "none");
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0), 1_000, p).kind, "none", "not dispatched");
  });

  it("lets a new leader re-publish only dispatches young enough for JetStream to drop a duplicate", () => {
    assert.equal(mayRepublish(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 1, policy), true);
    assert.equal(mayRepublish(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 539_999, policy), true);
    assert.equal(mayRepublish(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 540_000, policy), false, "too old");
    assert.equal(mayRepublish(rec(TaskStatus.QUEUED, 0), 1, policy), false, "never dispatched");
    assert.equal(mayRepublish(rec(TaskStatus.PROCESSING, 0, { dispatched: true }), 1, policy), false, "started");
  });

  it("retries dispatched tasks nobody started, but not tasks still waiting in the queue", () => {
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0, { dispatched: true }), 5_001, policy).kind, "stalled");
    assert.equal(reconcileTask(rec(TaskStatus.QUEUED, 0), 1_000_000, policy).kind, "none");
  });
  it("leaves ended tasks alone", () => {
    for (const s of [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]) {
      assert.equal(reconcileTask(rec(s, 0, { deadlineMs: 1 }), 1_000_000, policy).kind, "none");
    }
  });
});
