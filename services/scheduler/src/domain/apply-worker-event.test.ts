import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type WorkerEvent, WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { applyWorkerEvent, DENOISE_SHARE } from "./apply-worker-event.js";

const ctx = {
  now: timestampFromMs(1_000_000),
  retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
  random: 0.5,
};

function record(status = TaskStatus.QUEUED, attempt = 1): TaskRecord {
  return create(TaskRecordSchema, {
    task: { taskId: "t", status, attempt, params: { numFrames: 72 } },
    tenantId: "default",
    pool: "standard",
  });
}

function ev(event: MessageInitShape<typeof WorkerEventSchema>["event"], attempt = 1): WorkerEvent {
  return create(WorkerEventSchema, { taskId: "t", attempt, workerId: "w1", event });
}

const step = (n: number, attempt = 1) =>
  ev({ case: "step", value: { step: n, totalSteps: 10, stepSeconds: 0.1 } }, attempt);
const failed = (retryable: boolean, attempt = 1) =>
  ev(
    {
      case: "failed",
      value: { message: "boom", retryable, stage: "generate" },
    },
    attempt,
  );

/** Applies events in order, as the scheduler does, returning the final record. */
function run(r: TaskRecord, events: WorkerEvent[]): TaskRecord {
  return events.reduce((acc, e) => applyWorkerEvent(acc, e, ctx).record ?? acc, r);
}

describe("applyWorkerEvent", () => {
  it("walks queued -> processing -> encoding -> completed", () => {
    const startedEv = ev({
      case: "started",
      value: { executionProvider: "cpu", totalSteps: 10 },
    });
    let r = run(record(), [startedEv]);
    assert.equal(r.task?.status, TaskStatus.PROCESSING);
    assert.equal(r.executionProvider, "cpu");
    r = run(r, [step(1), step(5)]);
    assert.equal(r.task?.currentStep, 5);
    assert.ok(Math.abs((r.task?.progress ?? 0) - DENOISE_SHARE * 0.5) < 1e-9);
    r = run(r, [ev({ case: "denoised", value: { latentObject: "l", denoiseSeconds: 1 } })]);
    assert.equal(r.task?.status, TaskStatus.ENCODING);
    r = run(r, [
      ev({
        case: "videoReady",
        value: {
          videoObject: "v.mp4",
          sizeBytes: 10n,
          posterObject: "v.jpg",
          posterSizeBytes: 3n,
          frames: 72,
          decodeSeconds: 1,
          encodeSeconds: 1,
        },
      }),
    ]);
    assert.equal(r.task?.status, TaskStatus.COMPLETED);
    assert.equal(r.task?.progress, 1);
    assert.equal(r.videoObject, "v.mp4");
    assert.deepEqual([r.videoSizeBytes, r.posterSizeBytes], [10n, 3n], "both sizes kept for the byte cap");
    assert.equal(r.gpuSeconds, 2, "denoise plus decode seconds");
    assert.ok(r.task?.finishTime);
  });

  it("never moves progress backwards on late or duplicated steps", () => {
    const r = run(record(TaskStatus.PROCESSING), [step(6), step(3), step(6), step(2)]);
    assert.equal(r.task?.currentStep, 6);
    assert.ok(Math.abs((r.task?.progress ?? 0) - DENOISE_SHARE * 0.6) < 1e-9);
  });

  it("ignores every event once the task has ended", () => {
    for (const status of [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]) {
      const started = ev({
        case: "started",
        value: { executionProvider: "cpu", totalSteps: 10 },
      });
      for (const e of [started, step(3), failed(true)]) {
        assert.equal(applyWorkerEvent(record(status), e, ctx).record, null);
      }
    }
  });

  it("ignores events of an older attempt", () => {
    assert.equal(applyWorkerEvent(record(TaskStatus.PROCESSING, 2), step(4, 1), ctx).record, null);
  });

  it("retries a transient failure with backoff until the budget is spent", () => {
    const t1 = applyWorkerEvent(record(TaskStatus.PROCESSING, 1), failed(true, 1), ctx);
    assert.equal(t1.record?.task?.status, TaskStatus.QUEUED);
    assert.equal(t1.record?.task?.attempt, 2);
    assert.deepEqual(t1.retry, { attempt: 2, delayMs: 750 });
    const t2 = applyWorkerEvent(record(TaskStatus.PROCESSING, 2), failed(true, 2), ctx);
    assert.deepEqual(t2.retry, { attempt: 3, delayMs: 1500 });
    const t3 = applyWorkerEvent(record(TaskStatus.PROCESSING, 3), failed(true, 3), ctx);
    assert.equal(t3.retry, undefined);
    assert.equal(t3.record?.task?.status, TaskStatus.FAILED);
    assert.match(t3.record?.task?.errorMessage ?? "", /after 3 attempts: the model failed while rendering/);
    assert.equal(t3.record?.task?.errorCode, "RETRIES_EXHAUSTED");
    assert.equal(t3.record?.lastError, "generate: boom");
  });

  it("does not retry a permanent failure", () => {
    const t = applyWorkerEvent(record(TaskStatus.PROCESSING, 1), failed(false, 1), ctx);
    assert.equal(t.retry, undefined);
    assert.equal(t.record?.task?.status, TaskStatus.FAILED);
    assert.equal(t.record?.task?.errorMessage, "the model cannot render this request");
    assert.equal(t.record?.task?.errorCode, "INVALID_INPUT");
  });
});
