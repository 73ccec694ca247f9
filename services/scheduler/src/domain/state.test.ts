import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { SchedulerState } from "./state.js";

const rec = (taskId: string, tenantId: string, status = TaskStatus.QUEUED, dispatchedAttempt = 0): TaskRecord =>
  create(TaskRecordSchema, {
    task: { taskId, status, attempt: 1, createTime: timestampFromMs(1_000), deadline: timestampFromMs(9_000) },
    tenantId,
    pool: "standard",
    dispatchedAttempt,
  });

describe("SchedulerState", () => {
  it("files queued, dispatched and ended tasks where they belong", () => {
    const s = new SchedulerState();
    s.track(rec("q", "a"));
    s.track(rec("d", "a", TaskStatus.QUEUED, 1));
    s.track(rec("p", "b", TaskStatus.PROCESSING));
    assert.equal(s.poolOf("q"), "standard");
    assert.equal(s.poolOf("d"), undefined);
    assert.ok(s.knows("q") && s.knows("d") && s.knows("p"));
    assert.deepEqual(s.counts("a"), { queued: 1, running: 1 });
    assert.deepEqual(s.watchedIds().sort(), ["d", "p", "q"]);
    s.track(rec("p", "b", TaskStatus.COMPLETED));
    assert.equal(s.knows("p"), false);
    assert.deepEqual(s.watchedIds().sort(), ["d", "q"]);
  });

  it("hands out the tenants whose queue stats changed, once", () => {
    const s = new SchedulerState();
    s.track(rec("q1", "a"));
    s.track(rec("q2", "b"));
    assert.deepEqual(s.takeDirtyTenants().sort(), ["a", "b"]);
    assert.deepEqual(s.takeDirtyTenants(), []);
    const entry = s.queue("standard").get("q1");
    assert.ok(entry);
    s.take(entry);
    assert.deepEqual(s.takeDirtyTenants(), ["a"]);
    s.forget("q2");
    s.markDirty("c");
    assert.deepEqual(s.takeDirtyTenants().sort(), ["b", "c"]);
  });

  it("keeps a mean run time per pool", () => {
    const s = new SchedulerState();
    assert.equal(s.meanRunSecondsOf("vip"), undefined);
    s.recordRunSeconds("vip", 10);
    s.recordRunSeconds("vip", 20);
    assert.equal(s.meanRunSecondsOf("vip"), 12);
  });
});
