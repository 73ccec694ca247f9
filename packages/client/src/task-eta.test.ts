import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { formatEta, remainingSeconds } from "./task-eta.js";

const NOW = 1_800_000_000_000;

describe("remainingSeconds", () => {
  it("uses the scheduler's estimate while queued, nothing without one", () => {
    const queued = create(TaskSchema, {
      status: TaskStatus.QUEUED,
      estimatedFinishTime: timestampFromMs(NOW + 90_000),
    });
    assert.equal(remainingSeconds(queued, NOW), 90);
    assert.equal(remainingSeconds(create(TaskSchema, { status: TaskStatus.QUEUED }), NOW), undefined);
  });

  it("extrapolates from the progress made since the start while running", () => {
    const running = create(TaskSchema, {
      status: TaskStatus.PROCESSING,
      progress: 0.25,
      startTime: timestampFromMs(NOW - 30_000),
    });
    assert.equal(remainingSeconds(running, NOW), 90);
    assert.equal(remainingSeconds(create(TaskSchema, { status: TaskStatus.COMPLETED, progress: 1 }), NOW), undefined);
  });

  it("formats seconds and minutes", () => {
    assert.equal(formatEta(12.4), "12s");
    assert.equal(formatEta(65), "1:05");
    assert.equal(formatEta(undefined), "");
  });
});
