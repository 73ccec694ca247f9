import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { ArrivingTaskSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId } from "@t2v/common/task";
import { queuedTaskRecord } from "@t2v/common/testing/queued-task";
import { createSchedulerHarness, runJob, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

const DAY_MS = 86_400_000;

describe("scheduler app: dispatch, events, cache, estimates", () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await createSchedulerHarness();
  });
  afterEach(() => h.close());

  const queued = (tenant: string, n: number) =>
    waitUntil(
      () => h.ch.queueStats.read(tenant),
      (s) => s?.queued === n,
      `${n} queued for ${tenant}`,
    );

  it("queues a submission and dispatches it to the group with a free worker", async () => {
    const vip = await h.worker(["vip"]);
    const standard = await h.worker(["standard"]);
    await h.startScheduler();
    const first = await h.submit({ pool: "standard" });

    const job = await standard.nextJob();
    assert.equal(job?.message.taskId, first);
    assert.equal(job.message.attempt, 1);
    assert.equal(job.message.spec?.numFrames, 72);
    const r = await h.record(first);
    assert.equal(r.task?.status, TaskStatus.QUEUED);
    assert.equal(r.dispatchedAttempt, 1);
    assert.equal(r.dispatchedGroup, "standard");
    assert.equal(await vip.nextJob(300), null, "a VIP-only group gets no standard work");

    // One worker and no prefetch: the next task waits until the worker is free.
    const second = await h.submit({ pool: "standard" });
    assert.equal(await standard.nextJob(1_200), null, "not even after the next dispatch round");
    job.ack();
    await runJob(standard, job.message);
    const next = await standard.nextJob();
    assert.equal(next?.message.taskId, second);
  });

  it("queues a submission that arrived before its record, and drops one whose record never comes", async () => {
    // No sweep in the test's time: only the submission itself can queue the task.
    await h.close();
    h = await createSchedulerHarness({ SWEEP_INTERVAL_MS: "60000" });
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    // The gateway publishes a submission beside its record's create: here the record comes later.
    const early = newTaskId();
    await h.ch.submissions.submit({ taskId: early, tenantId: "tenant-a", pool: "standard" });
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(await w.nextJob(50), null, "nothing to dispatch without the record");
    await h.ch.tasks.create(queuedTaskRecord(early, { tenant: "tenant-a" }));
    assert.equal((await w.nextJob(3_000))?.message.taskId, early, "dispatched once its record landed");

    // A record that was never written (the gateway's create failed): after its retries the submission goes.
    const never = newTaskId();
    await h.ch.submissions.submit({ taskId: never, tenantId: "tenant-a", pool: "standard" });
    await waitUntil(
      async () => h.bus.streamMessages("T2V_SUBMIT").length,
      (n) => n === 0,
      "the recordless submission dropped",
      8_000,
    );
    const gone = await h.ch.tasks.get(never);
    assert.equal(gone, null, "no record was made up for it");
  });

  it("serves VIP before standard before batch, and tenants in turn, within one dispatch round", async () => {
    // Room for all five jobs at once (one worker, four prefetched), so one round decides the order.
    await h.close();
    h = await createSchedulerHarness({ DISPATCH_PREFETCH: "4" });
    await h.startScheduler();
    const a1 = await h.submit({ tenant: "a" });
    const a2 = await h.submit({ tenant: "a" });
    const b1 = await h.submit({ tenant: "b" });
    const batch = await h.submit({ tenant: "a", pool: "batch" });
    const vip = await h.submit({ tenant: "c", pool: "vip" });
    await queued("a", 3);
    await queued("b", 1);
    await queued("c", 1);
    const w = await h.worker(["vip", "standard", "batch"]);
    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push((await w.nextJob())?.message.taskId ?? "none");
    assert.deepEqual(order, [vip, a1, b1, a2, batch]);
  });

  it("applies worker events to the task, and writes usage once even when video ready comes twice", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const id = await h.submit({ tenant: "t" });
    const job = await w.nextJob();
    assert.ok(job);
    job.ack();

    await w.report(id, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 4, model: "wan-tiny@1" } });
    let r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.PROCESSING, "processing");
    assert.equal(r.executionProvider, "cpu");
    await w.report(id, 1, { case: "step", value: { step: 2, totalSteps: 4, stepSeconds: 0.1 } });
    await w.report(id, 1, { case: "step", value: { step: 1, totalSteps: 4, stepSeconds: 0.1 } });
    await h.eventsApplied();
    r = await h.record(id);
    assert.equal(r.task?.currentStep, 2, "a late step does not move progress back");
    assert.ok(Math.abs((r.task?.progress ?? 0) - 0.45) < 1e-9);
    await w.report(id, 1, { case: "denoised", value: { latentObject: `${id}.1`, denoiseSeconds: 2 } });
    await h.waitFor(id, (x) => x.task?.status === TaskStatus.ENCODING, "encoding");
    const ready = { videoObject: `${id}.mp4`, sizeBytes: 10n, frames: 72, decodeSeconds: 1, encodeSeconds: 1 };
    await w.report(id, 1, { case: "videoReady", value: ready });
    r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.COMPLETED, "completed");
    assert.equal(r.task?.progress, 1);
    assert.equal(r.videoObject, `${id}.mp4`);
    await w.report(id, 1, { case: "videoReady", value: ready });
    await h.eventsApplied();

    const usage = await h.ch.usage.list("t", new Date(Date.now() - DAY_MS), new Date(Date.now() + DAY_MS));
    assert.equal(usage.length, 1);
    assert.equal(usage[0]?.taskId, id);
    assert.equal(usage[0]?.gpuSeconds, 3, "denoise plus decode seconds");
    assert.equal(usage[0]?.billable, true);
    const changes = h.bus.streamMessages("T2V_NOTIFY").map((m) => fromBinary(TaskRecordSchema, m.data).task?.status);
    assert.deepEqual(changes, [TaskStatus.PROCESSING, TaskStatus.ENCODING, TaskStatus.COMPLETED]);
  });

  it("completes an identical seeded request from the result cache without a GPU", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const seeded = { tenant: "t", prompt: "a lighthouse at dusk", seed: 7, seedExplicit: true };
    const first = await h.completeThroughWorker(w, seeded);

    const second = await h.submit(seeded);
    const r = await h.waitFor(second, (x) => x.task?.status === TaskStatus.COMPLETED, "second completed");
    assert.equal(r.task?.cacheHit, true);
    assert.equal(r.videoObject, `${first}.mp4`);
    assert.equal(await w.nextJob(500), null, "no job for a cache hit");
    const usage = await h.ch.usage.list("t", new Date(Date.now() - DAY_MS), new Date(Date.now() + DAY_MS));
    assert.deepEqual(usage.map((u) => [u.taskId, u.billable]).sort(), [
      [first, true],
      [second, false],
    ]);

    // Another tenant's identical request is not served from this tenant's results.
    const other = await h.submit({ ...seeded, tenant: "u" });
    assert.equal((await w.nextJob())?.message.taskId, other);
  });

  it("answers queue estimates over queueEstimates.request", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const running = await h.submit();
    assert.equal((await w.nextJob())?.message.taskId, running);
    const waiting = [await h.submit(), await h.submit(), await h.submit()];
    await queued("tenant-a", 3);

    const estimates = await h.ch.queueEstimates.request([...waiting, "not-a-task", running], 1_000);
    assert.deepEqual(
      estimates.map((e) => [e.taskId, e.position]),
      waiting.map((id, i) => [id, i]),
      "only queued tasks, in dispatch order",
    );
    // One busy worker, 60 s per run by default: each task starts a run after the one before it.
    const starts = estimates.map((e) => (e.estimatedStartTime ? timestampMs(e.estimatedStartTime) : 0));
    assert.ok((starts[0] ?? 0) > Date.now() + 50_000);
    assert.equal((starts[1] ?? 0) - (starts[0] ?? 0), 60_000);
    assert.equal((starts[2] ?? 0) - (starts[1] ?? 0), 60_000);
  });

  it("answers for an arriving task not filed yet where it will stand, and for one filed already where it stands", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const running = await h.submit();
    assert.equal((await w.nextJob())?.message.taskId, running);
    const waiting = [await h.submit(), await h.submit()];
    await queued("tenant-a", 2);
    const arriving = (taskId: string, tenantId: string) =>
      create(ArrivingTaskSchema, { taskId, tenantId, pool: "standard" });
    const [mine, newcomer, filed] = await h.ch.queueEstimates.request(
      [],
      1_000,
      [],
      [
        arriving("not-sent-yet", "tenant-a"),
        arriving("first-of-b", "tenant-b"),
        arriving(waiting[1] ?? "", "tenant-a"),
      ],
    );
    assert.deepEqual(
      [mine?.taskId, mine?.position, mine?.projected],
      ["not-sent-yet", 2, true],
      "behind tenant-a's two",
    );
    assert.deepEqual([newcomer?.position, newcomer?.projected], [1, true], "round robin: after tenant-a's next only");
    assert.ok(mine?.estimatedStartTime, "with a start time: a worker is live");
    assert.deepEqual([filed?.position, filed?.queued, filed?.projected], [1, true, false], "filed: as it stands");
  });
});
