import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type WorkerEvent, WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { patchRecord } from "@t2v/common/task";
import { applyWorkerEvent, DENOISE_SHARE } from "./apply-worker-event.js";
import { reconcileTask } from "./reconcile-task.js";
import { SchedulerState } from "./state.js";

const ctx = {
  now: timestampFromMs(1_000_000),
  retry: { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 10_000 },
  random: 0.5,
};

function running(status = TaskStatus.PROCESSING, attempt = 1, currentStep = 4): TaskRecord {
  return create(TaskRecordSchema, {
    task: {
      taskId: "t",
      status,
      attempt,
      currentStep,
      totalSteps: 10,
      progress: (DENOISE_SHARE * currentStep) / 10,
      params: { numFrames: 72 },
      createTime: timestampFromMs(5_000),
    },
    tenantId: "acme",
    pool: "batch",
    dispatchedAttempt: attempt,
  });
}

function ev(event: MessageInitShape<typeof WorkerEventSchema>["event"], attempt = 1): WorkerEvent {
  return create(WorkerEventSchema, { taskId: "t", attempt, workerId: "w1", event });
}

const yielded = (step: number, reason: string, attempt = 1) =>
  ev({ case: "yielded", value: { step, totalSteps: 10, checkpointObject: "t.abc", reason } }, attempt);

function apply(r: TaskRecord, e: WorkerEvent): TaskRecord {
  const next = applyWorkerEvent(r, e, ctx).record;
  assert.ok(next, `${e.event.case} changed nothing`);
  return next;
}

describe("yielded attempts (preemption, pause)", () => {
  it("a preempted task is queued again at once with its progress, a fresh attempt and one more preemption", () => {
    const r = apply(running(), yielded(5, "preempt"));
    const t = r.task;
    assert.equal(t?.status, TaskStatus.QUEUED);
    assert.equal(t?.attempt, 2);
    assert.equal(t?.currentStep, 5);
    assert.equal(t?.progress, (DENOISE_SHARE * 5) / 10);
    assert.equal(t?.preemptions, 1);
    assert.equal(r.yieldedAttempts, 1);
    assert.equal(r.checkpointObject, "t.abc");
    assert.equal(r.notBefore, undefined, "no backoff");
    // Not dispatched yet: the scheduler files it in its queue, at its creation time.
    const s = new SchedulerState();
    s.track(r, 2_000_000);
    assert.equal(s.queue("batch").get("t")?.enqueuedAt, 5_000);
  });

  it("progress never goes back: a yield at an older step keeps the step reached", () => {
    const r = apply(running(TaskStatus.PROCESSING, 1, 7), yielded(6, "preempt"));
    assert.equal(r.task?.currentStep, 7);
    assert.equal(r.task?.progress, (DENOISE_SHARE * 7) / 10);
  });

  it("yielded attempts are not charged to the retry budget", () => {
    // Three yields, then a failure: with MAX_ATTEMPTS 2 the task still has a retry left.
    let r = running();
    for (let a = 1; a <= 3; a++) {
      r = apply(patchRecord(r, { status: TaskStatus.PROCESSING }, { dispatchedAttempt: a }), yielded(5, "preempt", a));
    }
    assert.equal(r.task?.attempt, 4);
    r = patchRecord(r, { status: TaskStatus.PROCESSING }, { dispatchedAttempt: 4 });
    const failed = (attempt: number) =>
      ev({ case: "failed", value: { message: "boom", retryable: true, stage: "generate" } }, attempt);
    const retried = applyWorkerEvent(r, failed(4), ctx);
    assert.equal(retried.record?.task?.status, TaskStatus.QUEUED);
    assert.ok(retried.retry);
    const last = patchRecord(retried.record ?? r, { status: TaskStatus.PROCESSING }, { dispatchedAttempt: 5 });
    const ended = apply(last, failed(5));
    assert.equal(ended.task?.status, TaskStatus.FAILED);
    assert.equal(ended.task?.errorMessage, "failed after 2 attempts: the model failed while rendering");
  });

  it("a paused task stays paused when its attempt yields; the attempt ends and resume will not bump it again", () => {
    const paused = patchRecord(running(), { status: TaskStatus.PAUSED, pauseExpireTime: timestampFromMs(9e9) });
    const r = apply(paused, yielded(5, "pause"));
    assert.equal(r.task?.status, TaskStatus.PAUSED);
    assert.equal(r.task?.attempt, 2);
    assert.equal(r.task?.preemptions, 0);
    assert.equal(r.dispatchedAttempt, 1);
    assert.equal(r.checkpointObject, "t.abc");
  });

  it("a paused task ignores its attempt's steps and start, and goes on to encode if the denoise finished first", () => {
    const paused = patchRecord(running(), { status: TaskStatus.PAUSED, pauseExpireTime: timestampFromMs(9e9) });
    assert.equal(
      applyWorkerEvent(paused, ev({ case: "step", value: { step: 5, totalSteps: 10, stepSeconds: 1 } }), ctx).record,
      null,
    );
    assert.equal(
      applyWorkerEvent(paused, ev({ case: "started", value: { executionProvider: "cpu", totalSteps: 10 } }), ctx)
        .record,
      null,
    );
    const done = apply(paused, ev({ case: "denoised", value: { latentObject: "t.1", denoiseSeconds: 3 } }));
    assert.equal(done.task?.status, TaskStatus.ENCODING);
    assert.equal(done.task?.pauseExpireTime, undefined);
  });

  it("a paused task whose attempt failed stays paused, with the next attempt waiting for ResumeTask", () => {
    const paused = patchRecord(running(), { status: TaskStatus.PAUSED });
    const t = applyWorkerEvent(
      paused,
      ev({ case: "failed", value: { message: "boom", retryable: true, stage: "generate" } }),
      ctx,
    );
    assert.equal(t.record?.task?.status, TaskStatus.PAUSED);
    assert.equal(t.record?.task?.attempt, 2);
    assert.equal(t.retry, undefined);
  });

  it("a yield from an older attempt or for an ended task changes nothing", () => {
    assert.equal(applyWorkerEvent(running(TaskStatus.PROCESSING, 2), yielded(5, "preempt", 1), ctx).record, null);
    assert.equal(applyWorkerEvent(running(TaskStatus.CANCELLED), yielded(5, "preempt"), ctx).record, null);
    assert.equal(applyWorkerEvent(running(TaskStatus.ENCODING), yielded(5, "preempt"), ctx).record, null);
  });
});

describe("paused tasks in the scheduler's state and reconciler", () => {
  const policy = { stallTimeoutMs: 1_000, dispatchTimeoutMs: 5_000, republishAfterMs: 500, duplicateWindowMs: 6e5 };
  const paused = (expiresMs: number, deadlineMs?: number) =>
    patchRecord(running(), {
      status: TaskStatus.PAUSED,
      pauseExpireTime: timestampFromMs(expiresMs),
      updateTime: timestampFromMs(0),
      ...(deadlineMs !== undefined ? { deadline: timestampFromMs(deadlineMs) } : {}),
    });

  it("is neither queued nor in flight, but watched until its pause runs out (or its deadline, if sooner)", () => {
    const s = new SchedulerState();
    s.track(running(TaskStatus.QUEUED, 1, 0), 0);
    s.track(paused(50_000), 0);
    assert.equal(s.knows("t"), false);
    assert.deepEqual(s.watchedIds(), ["t"]);
    assert.equal(s.deadlines.get("t"), 50_000);
    s.track(paused(50_000, 20_000), 0);
    assert.equal(s.deadlines.get("t"), 20_000);
  });

  it("is never stalled; it expires after pause_expire_time, and a deadline still applies", () => {
    assert.equal(reconcileTask(paused(50_000), 49_000, policy).kind, "none");
    assert.equal(reconcileTask(paused(50_000), 50_001, policy).kind, "pauseExpired");
    assert.equal(reconcileTask(paused(50_000, 20_000), 30_000, policy).kind, "deadline");
  });

  it("a changed priority re-sorts its tenant's list only", () => {
    const s = new SchedulerState();
    const queued = (id: string, tenantId: string, createMs: number, priority = 0) =>
      create(TaskRecordSchema, {
        task: { taskId: id, status: TaskStatus.QUEUED, attempt: 1, createTime: timestampFromMs(createMs), priority },
        tenantId,
        pool: "standard",
      });
    s.track(queued("a1", "A", 1), 0);
    s.track(queued("a2", "A", 2), 0);
    s.track(queued("b1", "B", 3), 0);
    s.track(queued("a2", "A", 2, 50), 0);
    const q = s.queue("standard");
    assert.equal(q.position("a2"), 0);
    assert.equal(q.position("b1"), 1);
    assert.equal(q.position("a1"), 2);
  });
});
