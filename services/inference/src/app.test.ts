import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  CHECKPOINTS_STORE,
  type Channels,
  channels,
  createMemoryBus,
  LATENTS_STORE,
  latentObjectName,
  openMediaStores,
  TASKS_BUCKET,
} from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, newTaskId } from "@t2v/common/task";
import { eventCases as cases, eventsUntil, smallJobSpec, submitJob } from "./testing/jobs.js";
import { noteBlobWrites, startTestWorker, type TestWorker, useReferenceModel } from "./testing/reference-worker.js";

const model = useReferenceModel();
const startWorker = (): Promise<TestWorker> => startTestWorker(model());

test("a job of a queued task: started, one step event per step, denoised; latents stored and a DecodeJob", async () => {
  const { bus, ch, app } = await startWorker();
  try {
    const taskId = await submit(ch, { status: TaskStatus.QUEUED, steps: 3 });
    const events = await eventsUntil(ch, (e) => e.event.case === "denoised" || e.event.case === "failed");
    assert.deepEqual(cases(events), ["started", "step", "step", "step", "denoised"]);
    const [started] = events;
    assert.equal(started?.event.case, "started");
    if (started?.event.case === "started") {
      assert.equal(started.event.value.executionProvider, "cpu");
      assert.equal(started.event.value.totalSteps, 3);
      assert.equal(started.event.value.model, `${model().generator.info.name}@${model().generator.info.version}`);
    }
    assert.ok(events.every((e) => e.taskId === taskId && e.attempt === 1 && e.workerId === "w1"));

    const { latents } = await openMediaStores(bus, { videoTtlHours: 1 });
    const latentObject = latentObjectName(taskId, 1);
    assert.ok((await latents.info(latentObject))?.size, "latents in the latents store");
    const decode = await (await ch.decodeJobs.inbox()).next(1_000);
    assert.equal(decode?.message.taskId, taskId);
    assert.equal(decode?.message.latentObject, latentObject);
    assert.equal(decode?.message.spec?.numFrames, 17);
    // Acked right after its last event went out.
    for (let i = 0; i < 100 && bus.streamMessages("T2V_GENERATE").length > 0; i++) await delay(10);
    assert.equal(bus.streamMessages("T2V_GENERATE").length, 0, "the job was acked");
  } finally {
    await app.stop();
  }
});

test("latents and checkpoints are written on the bulk connection, nothing on the control one", async () => {
  const bus = createMemoryBus();
  const control: string[] = [];
  const bulk: string[] = [];
  const { ch, app } = await startTestWorker(
    model(),
    { CHECKPOINT_EVERY_STEPS: "1" },
    noteBlobWrites(bus, control),
    noteBlobWrites(bus, bulk),
  );
  try {
    const taskId = await submit(ch, { status: TaskStatus.QUEUED, steps: 3 });
    await eventsUntil(ch, (e) => e.event.case === "denoised" || e.event.case === "failed");
    assert.ok(bulk.includes(`${LATENTS_STORE.name}/${latentObjectName(taskId, 1)}`), `latents on bulk: ${bulk}`);
    assert.ok(
      bulk.some((n) => n.startsWith(`${CHECKPOINTS_STORE.name}/`)),
      `checkpoints on bulk: ${bulk}`,
    );
    assert.deepEqual(control, [], "no blob written on the control connection");
  } finally {
    await app.stop();
  }
});

test("two jobs: one denoising at a time, the second started once the first's last step is done", async () => {
  const { ch, app } = await startWorker();
  try {
    const a = await submit(ch, { status: TaskStatus.QUEUED, steps: 3 });
    const b = await submit(ch, { status: TaskStatus.QUEUED, steps: 3 });
    let denoised = 0;
    const events = await eventsUntil(ch, (e) => e.event.case === "denoised" && ++denoised === 2);
    const at = (taskId: string, what: string, last = false): number =>
      events[last ? "findLastIndex" : "findIndex"]((e) => e.taskId === taskId && e.event.case === what);
    assert.ok(at(b, "step") > at(a, "step", true), "b's first step after a's last");
    assert.equal(events.filter((e) => e.event.case === "step").length, 6);
    const inbox = await ch.decodeJobs.inbox();
    const decoded = [(await inbox.next(1_000))?.message.taskId, (await inbox.next(1_000))?.message.taskId];
    assert.deepEqual(decoded, [a, b]);
  } finally {
    await app.stop();
  }
});

test("a task cancelled after the worker read its record, before it listened for the cancel, is not denoised", async () => {
  const bus = createMemoryBus();
  const ch = channels(bus);
  const taskId = newTaskId();
  // The worker's first read of the record sees it queued; the cancel lands right after it,
  // with its broadcast gone before anything listened (as when a client cancels at once).
  let reads = 0;
  const racing: typeof bus = Object.create(bus);
  racing.kv = async (spec) => {
    const kv = await bus.kv(spec);
    if (spec.name !== TASKS_BUCKET.name) return kv;
    return {
      ...kv,
      get: async (key) => {
        const e = await kv.get(key);
        if (key === taskId && ++reads === 1) await ch.tasks.update(taskId, (r) => endTask(r, TaskStatus.CANCELLED));
        return e;
      },
    };
  };
  const app = (await startTestWorker(model(), {}, racing)).app;
  try {
    await submitJob(ch, taskId, smallJobSpec({ steps: 40 }));
    for (let i = 0; i < 400 && bus.streamMessages("T2V_GENERATE").length > 0; i++) await delay(25);
    assert.equal(bus.streamMessages("T2V_GENERATE").length, 0, "the job was acked");
    const events = await eventsUntil(ch, () => false, 300);
    assert.ok(!cases(events).includes("denoised"), `not denoised: ${cases(events).join(", ")}`);
    assert.ok(events.filter((e) => e.event.case === "step").length < 40, "it stopped before the last step");
  } finally {
    await app.stop();
  }
});

test("a cancel broadcast mid-run stops the task between steps: no denoised event, no DecodeJob", async () => {
  const { bus, ch, app } = await startWorker();
  try {
    const taskId = await submit(ch, { status: TaskStatus.QUEUED, steps: 40 });
    const first = await eventsUntil(ch, (e) => e.event.case === "step");
    assert.deepEqual(cases(first).slice(-1), ["step"]);
    ch.cancellations.broadcast(taskId);
    for (let i = 0; i < 200 && bus.streamMessages("T2V_GENERATE").length > 0; i++) await delay(25);
    assert.equal(bus.streamMessages("T2V_GENERATE").length, 0, "the cancelled job was acked");
    const rest = await eventsUntil(ch, () => false, 300);
    assert.ok(
      rest.every((e) => e.event.case === "step"),
      `only steps already under way: ${cases(rest).join(", ")}`,
    );
    assert.ok(first.length + rest.length < 40, "it stopped before the last step");
    assert.equal(await (await ch.decodeJobs.inbox()).next(100), null, "no DecodeJob");
  } finally {
    await app.stop();
  }
});

test("shutdown mid-run hands the task back: the job is naked, no failed event", async () => {
  const { bus, ch, app } = await startWorker();
  await submit(ch, { status: TaskStatus.QUEUED, steps: 40 });
  await eventsUntil(ch, (e) => e.event.case === "step");
  await app.stop();
  assert.equal(bus.streamMessages("T2V_GENERATE").length, 1, "the job is back in the stream");
  const rest = await eventsUntil(ch, () => false, 200);
  assert.ok(
    rest.every((e) => e.event.case === "step"),
    cases(rest).join(", "),
  );
});

test("a job of a task that already ended is acked and skipped", async () => {
  const { bus, ch, app } = await startWorker();
  try {
    await submit(ch, { status: TaskStatus.CANCELLED, steps: 3 });
    for (let i = 0; i < 200 && bus.streamMessages("T2V_GENERATE").length > 0; i++) await delay(10);
    assert.equal(bus.streamMessages("T2V_GENERATE").length, 0, "acked");
    assert.deepEqual(await eventsUntil(ch, () => false, 200), [], "no event");
    assert.equal(await (await ch.decodeJobs.inbox()).next(100), null, "no DecodeJob");
  } finally {
    await app.stop();
  }
});

/** A task record at `status` and its GenerateJob. */
async function submit(ch: Channels, opts: { status: TaskStatus; steps: number }): Promise<string> {
  const taskId = newTaskId();
  await submitJob(ch, taskId, smallJobSpec({ steps: opts.steps }), opts.status);
  return taskId;
}
