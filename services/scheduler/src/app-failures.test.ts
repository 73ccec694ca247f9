import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { patchRecord } from "@t2v/common/task";
import { createSchedulerHarness, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

describe("scheduler app: retries, cancels, reconciler, sweep, rebuild", () => {
  let h: SchedulerHarness;
  afterEach(() => h.close());

  const failed = (retryable: boolean) =>
    ({ case: "failed", value: { message: "out of memory", retryable, stage: "generate" } }) as const;

  it("re-queues a retryable failure with backoff, and fails the task with a dead letter on the third", async () => {
    h = await createSchedulerHarness({ RETRY_BASE_DELAY_MS: "400", RETRY_MAX_DELAY_MS: "5000" });
    const w = await h.worker(["standard"]);
    // Jitter at the middle of its range: the delay is 3/4 of the ceiling (400 ms, then 800 ms).
    await h.startScheduler({ random: () => 0.5 });
    const id = await h.submit({ tenant: "t" });

    let job = await w.nextJob();
    assert.equal(job?.message.attempt, 1);
    for (const [attempt, delayMs] of [
      [1, 300],
      [2, 600],
    ] as const) {
      job.ack();
      await w.report(id, attempt, failed(true));
      const r = await h.waitFor(id, (x) => x.task?.attempt === attempt + 1, `attempt ${attempt + 1} queued`);
      assert.equal(r.task?.status, TaskStatus.QUEUED);
      assert.match(r.task?.errorMessage ?? "", /attempt \d failed \(MODEL_RUNTIME_ERROR\); retrying/);
      assert.equal(r.lastError, "out of memory");
      assert.ok(r.notBefore && r.task?.updateTime);
      const notBefore = timestampMs(r.notBefore);
      assert.equal(notBefore - timestampMs(r.task.updateTime), delayMs);
      job = await w.nextJob();
      assert.equal(job?.message.attempt, attempt + 1);
      assert.ok(Date.now() >= notBefore, "not dispatched before its backoff ran out");
    }
    job.ack();
    await w.report(id, 3, failed(true));
    const r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.FAILED, "failed");
    assert.equal(r.task?.errorCode, "RETRIES_EXHAUSTED");
    assert.match(r.task?.errorMessage ?? "", /failed after 3 attempts: the model failed while rendering/);
    assert.doesNotMatch(r.task?.errorMessage ?? "", /out of memory/, "the detail is not shown to users");
    const letters = await waitUntil(
      () => h.ch.deadLetters.list(),
      (l) => l.length === 1,
      "dead letter",
    );
    assert.equal(letters[0]?.taskId, id);
    assert.equal(letters[0]?.attempts, 3);
    assert.equal(letters[0]?.stage, "generate");
    assert.match(letters[0]?.errorMessage ?? "", /out of memory/, "operators get the detail");
  });

  it("fails a permanent error at once, with a dead letter", async () => {
    h = await createSchedulerHarness();
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const id = await h.submit();
    const job = await w.nextJob();
    assert.ok(job);
    job.ack();
    await w.report(id, 1, failed(false));
    const r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.FAILED, "failed");
    assert.equal(r.task?.attempt, 1);
    assert.equal(r.task?.errorCode, "INVALID_INPUT");
    assert.equal(r.task?.errorMessage, "the model cannot render this request");
    assert.equal(r.lastError, "generate: out of memory");
    await waitUntil(
      () => h.ch.deadLetters.list(),
      (l) => l[0]?.taskId === id,
      "dead letter",
    );
    assert.equal(await w.nextJob(1_200), null, "no retry");
  });

  it("drops a queued task from the queue when its cancel is broadcast", async () => {
    h = await createSchedulerHarness();
    await h.startScheduler();
    const id = await h.submit({ tenant: "t" });
    const keep = await h.submit({ tenant: "t" });
    await waitUntil(
      () => h.ch.queueStats.read("t"),
      (s) => s?.queued === 2,
      "two queued",
    );
    const estimated = await h.ch.queueEstimates.request([id, keep], 1_000);
    assert.deepEqual(
      estimated.map((e) => e.taskId),
      [id, keep],
    );

    await h.cancel(id);
    await waitUntil(
      () => h.ch.queueStats.read("t"),
      (s) => s?.queued === 1,
      "one left queued",
    );
    const after = await h.ch.queueEstimates.request([id, keep], 1_000);
    assert.deepEqual(
      after.map((e) => [e.taskId, e.position]),
      [[keep, 0]],
    );
    const w = await h.worker(["standard"]);
    assert.equal((await w.nextJob())?.message.taskId, keep);
    assert.equal((await h.record(id)).task?.status, TaskStatus.CANCELLED);
  });

  it("fails a task past its deadline (with a cancel broadcast) and retries a stalled one", async () => {
    h = await createSchedulerHarness({ STALL_TIMEOUT_MS: "1000" });
    const heard: string[] = [];
    const sub = h.ch.cancellations.subscribe((taskId) => heard.push(taskId));
    const w = await h.worker(["standard"]);
    await h.startScheduler();

    // Batch work with no batch worker waits until its deadline passes.
    const late = await h.submit({ pool: "batch", deadlineMs: Date.now() + 300 });
    const r = await h.waitFor(late, (x) => x.task?.status === TaskStatus.FAILED, "deadline failure");
    assert.match(r.task?.errorMessage ?? "", /deadline exceeded/);
    assert.equal(r.task?.errorCode, "DEADLINE_EXCEEDED");
    await waitUntil(
      async () => heard,
      (l) => l.includes(late),
      "cancel broadcast",
    );
    sub.unsubscribe();

    const stalled = await h.submit();
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, stalled);
    job.ack();
    await w.report(stalled, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 4 } });
    await h.waitFor(stalled, (x) => x.task?.status === TaskStatus.PROCESSING, "processing");
    // The worker goes silent: after the stall timeout the attempt counts as failed and is retried.
    const retried = await h.waitFor(stalled, (x) => x.task?.attempt === 2, "retried", 5_000);
    assert.equal(retried.task?.status, TaskStatus.QUEUED);
    assert.match(retried.task?.errorMessage ?? "", /failed \(WORKER_LOST\); retrying/);
    assert.match(retried.lastError, /no progress/);
    assert.equal((await w.nextJob())?.message.attempt, 2);
  });

  it("picks up a task whose submission was lost", async () => {
    h = await createSchedulerHarness({ DISPATCH_PREFETCH: "1" });
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    // Once a submitted task is dispatched, the term's rebuild is over: only the sweep can find the next one.
    const submitted = await h.submit();
    assert.equal((await w.nextJob())?.message.taskId, submitted);
    const lost = await h.submit({ loseSubmission: true });
    const started = Date.now();
    assert.equal((await w.nextJob())?.message.taskId, lost);
    assert.ok(Date.now() - started >= 50, "found by a sweep, not at once");
  });

  it("rebuilds its queues from the task records at the start of a term, re-publishing recorded dispatches", async () => {
    // No sweep during the test, so only the rebuild can find these tasks.
    h = await createSchedulerHarness({ SWEEP_INTERVAL_MS: "86400000", DISPATCH_PREFETCH: "1" });
    const w = await h.worker(["standard"]);
    const dispatched = await h.submit({ loseSubmission: true });
    // As if the previous leader recorded the dispatch and died before publishing it.
    await h.ch.tasks.update(dispatched, (r) => patchRecord(r, {}, { dispatchedAttempt: 1, dispatchedGroup: w.group }));
    const waiting = await h.submit({ loseSubmission: true });
    await h.startScheduler();
    const ids = [(await w.nextJob())?.message.taskId, (await w.nextJob())?.message.taskId];
    assert.deepEqual(ids.sort(), [dispatched, waiting].sort());
  });
});
