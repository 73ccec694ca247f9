import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { CHECKPOINTS_STORE, type TaskControlKind } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { afterYield, patchRecord } from "@t2v/common/task";
import { createSchedulerHarness, runJob, type SchedulerHarness } from "./testing/scheduler-harness.js";

describe("scheduler app: pause, resume, priority, yielded attempts", () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await createSchedulerHarness();
  });
  afterEach(() => h.close());

  /** What the gateway does: write the record, then broadcast the control. */
  async function control(taskId: string, kind: TaskControlKind, change: Parameters<typeof patchRecord>[1]) {
    await h.ch.tasks.update(taskId, (r) => {
      const resumed = kind === "resume" && r.dispatchedAttempt === r.task?.attempt;
      return resumed ? afterYield(r, change) : patchRecord(r, change);
    });
    h.ch.taskControls.broadcast({ taskId, kind });
  }

  it("a paused queued task is not dispatched; resumed, it is, with the same attempt", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const first = await h.submit();
    const second = await h.submit();
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, first);
    await control(second, "pause", {
      status: TaskStatus.PAUSED,
      pauseExpireTime: timestampFromMs(Date.now() + 3_600_000),
    });
    job.ack();
    await runJob(w, job.message);
    await h.waitFor(first, (r) => r.task?.status === TaskStatus.COMPLETED, "first completed");
    assert.equal(await w.nextJob(1_500), null, "the paused task stays out of the queue");
    assert.equal((await h.record(second)).task?.status, TaskStatus.PAUSED);

    await control(second, "resume", { status: TaskStatus.QUEUED, pauseExpireTime: undefined });
    const next = await w.nextJob();
    assert.equal(next?.message.taskId, second);
    assert.equal(next.message.attempt, 1);
    next.ack();
  });

  it("a raised priority goes first among the tenant's own tasks, never ahead of another tenant's turn", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const busy = await h.submit({ tenant: "a" });
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, busy);
    const a1 = await h.submit({ tenant: "a" });
    const b1 = await h.submit({ tenant: "b" });
    const a2 = await h.submit({ tenant: "a" });
    await h.waitFor(a2, () => true, "a2 written");
    // Let the submissions reach the queue before the priority changes.
    await new Promise((r) => setTimeout(r, 300));
    await control(a2, "priority", { priority: 10 });
    await new Promise((r) => setTimeout(r, 300));
    const order: string[] = [];
    let current = job;
    for (let i = 0; i < 3; i++) {
      current.ack();
      await runJob(w, current.message);
      const next = await w.nextJob();
      assert.ok(next, `job ${i + 2}`);
      order.push(next.message.taskId);
      current = next;
    }
    current.ack();
    // Tenants take turns (a joined the empty queue first): a's turn goes to its highest priority,
    // then b's turn, then a's oldest. Priority never gave a two turns in a row.
    assert.deepEqual(order, [a2, b1, a1]);
  });

  it("a yielded attempt goes back to the queue with its progress and is dispatched again as a new attempt", async () => {
    const w = await h.worker(["batch"]);
    await h.startScheduler();
    const id = await h.submit({ pool: "batch" });
    const job = await w.nextJob();
    assert.ok(job);
    job.ack();
    await w.report(id, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 8 } });
    await w.report(id, 1, { case: "step", value: { step: 3, totalSteps: 8, stepSeconds: 0.1 } });
    await w.report(id, 1, {
      case: "yielded",
      value: { step: 3, totalSteps: 8, checkpointObject: `${id}.k`, denoiseSeconds: 0.3, reason: "preempt" },
    });
    const again = await w.nextJob();
    assert.equal(again?.message.taskId, id);
    assert.equal(again.message.attempt, 2);
    const r = await h.record(id);
    assert.equal(r.task?.currentStep, 3);
    assert.equal(r.task?.preemptions, 1);
    assert.equal(r.yieldedAttempts, 1);
    again.ack();
  });

  it("a task paused past its pause_expire_time is cancelled with PAUSE_EXPIRED and its checkpoint deleted", async () => {
    await h.startScheduler();
    const id = await h.submit({ loseSubmission: true });
    const checkpoints = await h.bus.blobs(CHECKPOINTS_STORE);
    await checkpoints.put(`${id}.k`, new Uint8Array([1, 2, 3]));
    await h.ch.tasks.update(id, (r) =>
      patchRecord(
        r,
        { status: TaskStatus.PAUSED, pauseExpireTime: timestampFromMs(Date.now() + 500) },
        { checkpointObject: `${id}.k` },
      ),
    );
    h.ch.taskControls.broadcast({ taskId: id, kind: "pause" });
    const r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.CANCELLED, "expired");
    assert.equal(r.task?.errorCode, "PAUSE_EXPIRED");
    assert.equal(r.task?.pauseExpireTime, undefined);
    assert.equal(await checkpoints.get(`${id}.k`), null);
  });
});
