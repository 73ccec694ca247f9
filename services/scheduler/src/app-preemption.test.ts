import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { TaskControlMessage } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createSchedulerHarness, type FakeWorker, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

const ALL = ["vip", "standard", "batch"] as const;

describe("scheduler app: step-level preemption", () => {
  let h: SchedulerHarness | undefined;
  afterEach(() => h?.close());

  async function setup(env: Record<string, string>) {
    h = await createSchedulerHarness(env);
    const yields: TaskControlMessage[] = [];
    h.ch.taskControls.subscribe((m) => {
      if (m.kind === "yield") yields.push(m);
    });
    const w = await h.worker([...ALL]);
    await h.startScheduler();
    return { h, w, yields };
  }

  /** Takes the batch task's job (held unacked while it runs, as a worker does) and reports it denoising (step 2 of 10). */
  async function runningBatch(
    s: SchedulerHarness,
    w: FakeWorker,
  ): Promise<{ id: string; ack: () => void; startedAt: number }> {
    const id = await s.submit({ pool: "batch", tenant: "bulk" });
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, id);
    // The scheduler times the attempt from when it applies "started": not before this.
    const startedAt = Date.now();
    await w.report(id, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 10 } });
    await w.report(id, 1, { case: "step", value: { step: 2, totalSteps: 10, stepSeconds: 0.1 } });
    await s.waitFor(id, (r) => r.task?.currentStep === 2, "batch denoising");
    return { id, ack: () => job.ack(), startedAt };
  }

  it("a VIP task waiting on the only worker makes the batch task yield; the VIP task runs next, the batch task keeps its progress", async () => {
    const { h, w, yields } = await setup({ PREEMPT_MIN_RUN_SECONDS: "0" });
    const { id: batch, ack } = await runningBatch(h, w);
    const vip = await h.submit({ pool: "vip", tenant: "star" });
    await waitUntil(
      async () => yields.length,
      (n) => n > 0,
      "a yield",
    );
    assert.deepEqual(yields[0], { taskId: batch, kind: "yield", attempt: 1 });
    // The worker stops at the step boundary after step 3 and reports it.
    await w.report(batch, 1, { case: "step", value: { step: 3, totalSteps: 10, stepSeconds: 0.1 } });
    await w.report(batch, 1, {
      case: "yielded",
      value: { step: 3, totalSteps: 10, checkpointObject: `${batch}.k`, denoiseSeconds: 0.3, reason: "preempt" },
    });
    ack();
    const next = await w.nextJob();
    assert.equal(next?.message.taskId, vip, "the freed worker takes the VIP task");
    const r = await h.record(batch);
    assert.equal(r.task?.status, TaskStatus.QUEUED);
    assert.equal(r.task?.attempt, 2);
    assert.equal(r.task?.currentStep, 3);
    assert.equal(r.task?.preemptions, 1);
    assert.equal(yields.length, 1, "one preemption");
    next.ack();
    await w.report(vip, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 2 } });
    await w.report(vip, 1, { case: "denoised", value: { latentObject: `${vip}.1`, denoiseSeconds: 0.2 } });
    // The worker is free again: the preempted task comes back as its second attempt.
    const again = await w.nextJob();
    assert.equal(again?.message.taskId, batch);
    assert.equal(again.message.attempt, 2);
    again.ack();
  });

  it("not within the minimum run quantum, and only for higher-tier work", async () => {
    const { h, w, yields } = await setup({ PREEMPT_MIN_RUN_SECONDS: "2" });
    const { id, ack, startedAt } = await runningBatch(h, w);
    // Same-tier work waits for the worker like before.
    await h.submit({ pool: "batch", tenant: "other" });
    await h.submit({ pool: "vip", tenant: "star" });
    let seenAt = 0;
    await waitUntil(
      async () => {
        if (yields.length > 0 && seenAt === 0) seenAt = Date.now();
        return yields.length;
      },
      (n) => n > 0,
      "a yield once the quantum is over",
    );
    // A lower bound only: a loaded machine makes it later, never sooner.
    assert.ok(seenAt - startedAt >= 2_000, `yield asked ${seenAt - startedAt} ms after it started`);
    assert.deepEqual(
      yields.map((y) => y.taskId),
      [id],
    );
    ack();
  });

  it("a lower-tier job waiting for the group is taken back, so the freed worker does not start it instead", async () => {
    const { h, w, yields } = await setup({ PREEMPT_MIN_RUN_SECONDS: "0", DISPATCH_PREFETCH: "1" });
    const { id: batch, ack } = await runningBatch(h, w);
    const held = await h.submit({ pool: "batch", tenant: "bulk" });
    const prefetched = await w.nextJob();
    assert.equal(prefetched?.message.taskId, held, "prefetched behind the running one");
    await h.submit({ pool: "vip", tenant: "star" });
    await waitUntil(
      async () => yields.length,
      (n) => n > 0,
      "a yield",
    );
    const r = await h.record(held);
    assert.equal(r.task?.status, TaskStatus.QUEUED);
    assert.equal(r.task?.attempt, 2, "the sent job is superseded");
    assert.equal(r.yieldedAttempts, 1, "and not charged");
    assert.equal(yields[0]?.taskId, batch);
    prefetched.ack();
    ack();
  });
});
