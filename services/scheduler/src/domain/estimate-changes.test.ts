import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type QueueEstimate,
  QueueEstimateSchema,
  TaskSizeSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { estimateChanges, estimateMoved, watchedEstimates } from "./estimate-changes.js";
import { SchedulerState } from "./state.js";

const est = (taskId: string, position: number, startMs?: number): QueueEstimate =>
  create(QueueEstimateSchema, {
    taskId,
    queued: true,
    position,
    ...(startMs === undefined
      ? {}
      : { estimatedStartTime: timestampFromMs(startMs), estimatedFinishTime: timestampFromMs(startMs + 10_000) }),
  });

describe("estimate changes", () => {
  it("pushes what was never sent and what moved, keeps the rest as sent, forgets tasks no longer watched", () => {
    const first = estimateChanges(new Map(), [est("a", 0, 10_000), est("b", 1, 20_000)], 0);
    assert.deepEqual(
      first.changed.map((e) => e.taskId),
      ["a", "b"],
    );
    // a moved up; b's ETA slid with the clock by less than the tolerance; c is new; the old d is gone.
    const pushed = new Map(first.pushed).set("d", est("d", 5));
    const next = estimateChanges(pushed, [est("a", 1, 10_000), est("b", 1, 21_000), est("c", 2)], 1_000);
    assert.deepEqual(
      next.changed.map((e) => e.taskId),
      ["a", "c"],
    );
    assert.deepEqual([...next.pushed.keys()], ["a", "b", "c"]);
    // What the gateway holds for b is still the first ETA: the slide adds up until it is pushed.
    assert.equal(next.pushed.get("b"), first.pushed.get("b"));
    const later = estimateChanges(next.pushed, [est("a", 1, 10_000), est("b", 1, 23_000), est("c", 2)], 3_000);
    assert.deepEqual(
      later.changed.map((e) => e.taskId),
      ["b"],
    );
  });

  it("a task no longer queued is a change once, then not again", () => {
    const gone = create(QueueEstimateSchema, { taskId: "a" });
    const once = estimateChanges(new Map([["a", est("a", 0)]]), [gone], 0);
    assert.deepEqual(once.changed, [gone]);
    assert.deepEqual(estimateChanges(once.pushed, [create(QueueEstimateSchema, { taskId: "a" })], 0).changed, []);
  });

  it("tolerates an ETA slide by a share of the wait left, at least two seconds", () => {
    const now = 0;
    assert.equal(estimateMoved(est("a", 3, 100_000), est("a", 3, 101_900), now), false);
    assert.equal(estimateMoved(est("a", 3, 10_000), est("a", 3, 12_100), now), true, "2.1 s on 10 s");
    // An hour away: 5 % is three minutes.
    assert.equal(estimateMoved(est("a", 3, 3_600_000), est("a", 3, 3_700_000), now), false);
    assert.equal(estimateMoved(est("a", 3, 3_600_000), est("a", 3, 3_800_000), now), true);
    assert.equal(estimateMoved(est("a", 3), est("a", 3, 10_000), now), true, "an ETA where there was none");
    assert.equal(estimateMoved(est("a", 3), est("a", 4), now), true);
  });

  it("estimates every watched task: queued ones with their position, others as not queued, sizes when asked", () => {
    const s = new SchedulerState();
    s.track(
      create(TaskRecordSchema, {
        task: { taskId: "q", status: TaskStatus.QUEUED, attempt: 1, createTime: timestampFromMs(0) },
        tenantId: "t",
        pool: "standard",
      }),
    );
    const size = create(TaskSizeSchema, { taskId: "q", pool: "standard", width: 64, height: 64, numFrames: 8 });
    const set = { generation: 1n, taskIds: new Set(["q", "unknown"]), sizes: new Map([["q", size]]) };
    const [q, unknown] = watchedEstimates(s, [], set, 0, 10);
    assert.equal(q?.queued, true);
    assert.equal(q?.position, 0);
    assert.ok((q?.estimatedGpuSeconds ?? 0) > 0);
    assert.equal(unknown?.queued, false);
    assert.equal(unknown?.taskId, "unknown");
  });
});
