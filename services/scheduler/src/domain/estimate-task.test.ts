import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { ArrivingTaskSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { estimateArriving, estimateTask } from "./estimate-task.js";
import { SchedulerState } from "./state.js";

function state(): SchedulerState {
  const s = new SchedulerState();
  const add = (taskId: string, pool: string, createMs: number, status = TaskStatus.QUEUED) =>
    s.track(
      create(TaskRecordSchema, {
        task: { taskId, status, attempt: 1, createTime: timestampFromMs(createMs) },
        tenantId: "t",
        pool,
      }),
    );
  add("v1", "vip", 0);
  add("s1", "standard", 1);
  add("s2", "standard", 2);
  add("running", "standard", 0, TaskStatus.PROCESSING);
  return s;
}

describe("estimateTask", () => {
  const shared = { group: "vip-standard", pools: ["vip", "standard"], workers: 2 };

  it("counts higher-priority work ahead and drains the queue through the live workers", () => {
    const e = estimateTask(state(), [shared], "s2", 1_000, 10);
    assert.equal(e?.position, 2);
    // Two workers, one busy, two tasks ahead: it starts after one run.
    assert.equal(e?.estimatedStartTime && timestampMs(e.estimatedStartTime), 11_000);
    assert.equal(e?.estimatedFinishTime && timestampMs(e.estimatedFinishTime), 21_000);
  });

  it("gives a position but no times without a live worker, and nothing for tasks not queued", () => {
    const e = estimateTask(state(), [], "s1", 0, 10);
    assert.equal(e?.position, 0);
    assert.equal(e?.estimatedStartTime, undefined);
    assert.equal(estimateTask(state(), [shared], "running", 0, 10), undefined);
    assert.equal(estimateTask(state(), [shared], "missing", 0, 10), undefined);
  });

  it("uses the measured run time of the pool once there is one", () => {
    const s = state();
    s.recordRunSeconds("vip", 4);
    const e = estimateTask(s, [shared], "v1", 0, 60);
    assert.equal(e?.estimatedFinishTime && timestampMs(e.estimatedFinishTime), 4_000);
  });

  it("places a task not filed yet where it would stand if it were filed now", () => {
    const s = state();
    const arriving = create(ArrivingTaskSchema, { taskId: "new", tenantId: "t", pool: "standard" });
    const e = estimateArriving(s, [shared], arriving, 1_000, 10);
    assert.equal(e.projected, true);
    assert.equal(e.queued, false);
    // Behind the vip task and t's two standard ones.
    assert.equal(e.position, 3);
    s.track(
      create(TaskRecordSchema, {
        task: { taskId: "new", status: TaskStatus.QUEUED, attempt: 1, createTime: timestampFromMs(1_000) },
        tenantId: "t",
        pool: "standard",
      }),
    );
    assert.equal(estimateTask(s, [shared], "new", 1_000, 10)?.position, e.position, "as it stands once filed");
    assert.equal(
      estimateArriving(s, [shared], { ...arriving, taskId: "other", tenantId: "newcomer" }, 1_000, 10).position,
      2,
      "another tenant's first task waits for the vip task and one of t's (round robin), not all of t's",
    );
  });
});
