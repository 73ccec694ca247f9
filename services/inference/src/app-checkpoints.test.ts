import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import {
  checkpointObjectName,
  createMemoryBus,
  latentObjectName,
  type MemoryBus,
  openMediaStores,
} from "@t2v/common/channels";
import type { GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, newTaskId } from "@t2v/common/task";
import {
  type Checkpoint,
  checkpointKey,
  decodeCheckpoint,
  decodeLatents,
  encodeCheckpoint,
  type Latents,
} from "@t2v/model";
import { toGenerationSpec } from "./domain/to-generation-spec.js";
import { eventsUntil, smallJobSpec, submitJob as submit } from "./testing/jobs.js";
import { startTestWorker, type TestWorker, useReferenceModel } from "./testing/reference-worker.js";

const model = useReferenceModel();
const STEPS = 8;
const startWorker = (env: Record<string, string> = {}, bus = createMemoryBus()): Promise<TestWorker> =>
  startTestWorker(model(), env, bus);

const jobSpec = (o: { seed?: number; numFrames?: number; steps?: number } = {}): JobSpec =>
  smallJobSpec({ steps: STEPS, ...o });

/** The object a worker reads and writes this spec's checkpoint under. */
const objectFor = (taskId: string, spec: JobSpec): string =>
  checkpointObjectName(taskId, checkpointKey(toGenerationSpec(spec), model().generator.info));

/** Waits until the worker acked every job: its checkpoint work is over by then. */
async function untilAcked(bus: MemoryBus): Promise<void> {
  for (let i = 0; i < 200 && bus.streamMessages("T2V_GENERATE").length > 0; i++) await delay(10);
  assert.equal(bus.streamMessages("T2V_GENERATE").length, 0, "the job was acked");
}

const ended = (e: WorkerEvent): boolean => e.event.case === "denoised" || e.event.case === "failed";
const stepsOf = (events: WorkerEvent[]): number[] =>
  events.flatMap((e) => (e.event.case === "step" ? [e.event.value.step] : []));

async function storedLatents(bus: MemoryBus, taskId: string): Promise<Latents> {
  const { latents } = await openMediaStores(bus, { videoTtlHours: 1 });
  const bytes = await latents.get(latentObjectName(taskId, 1));
  assert.ok(bytes, "latents stored");
  return decodeLatents(bytes);
}

/** The uninterrupted run of a spec, and the checkpoint it handed out after `atStep` steps. */
async function reference(spec: JobSpec, atStep: number): Promise<{ latents: Latents; checkpoint: Checkpoint }> {
  let checkpoint: Checkpoint | undefined;
  const result = await model().generator.generate(toGenerationSpec(spec), {
    checkpointEvery: { steps: atStep },
    onCheckpoint: (c) => {
      checkpoint ??= c;
    },
  });
  assert.equal(result.kind, "done");
  assert.ok(checkpoint && result.kind === "done");
  return { latents: result.latents, checkpoint };
}

const sameLatents = (a: Latents, b: Latents): void => {
  assert.deepEqual(a.dims, b.dims);
  assert.ok(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer)), "latents are bit-identical");
};

test("a job whose checkpoint exists resumes from it: fewer steps, bit-identical latents, all time billed", async () => {
  const spec = jobSpec();
  const { latents: expected, checkpoint } = await reference(spec, 5);
  const w = await startWorker();
  try {
    const taskId = newTaskId();
    // As a killed earlier attempt left it: 5 steps done, 42 s spent on the clip so far.
    await w.checkpoints.put(objectFor(taskId, spec), encodeCheckpoint({ ...checkpoint, denoiseSeconds: 42 }));
    await submit(w.ch, taskId, spec, TaskStatus.QUEUED, { started: true });
    const events = await eventsUntil(w.ch, ended);
    const cases = events.map((e) => e.event.case);
    assert.equal(cases[0], "started");
    assert.equal(cases.at(-1), "denoised");
    // Progress resumes at step 5 at once, then only the 3 remaining steps run.
    assert.deepEqual(stepsOf(events), [5, 6, 7, 8]);
    sameLatents(await storedLatents(w.bus, taskId), expected);
    const denoised = events.at(-1)?.event;
    assert.ok(denoised?.case === "denoised");
    // Billed: the earlier runs' 42 s plus this run's few milliseconds.
    assert.ok(
      denoised.value.denoiseSeconds > 42 && denoised.value.denoiseSeconds < 52,
      `${denoised.value.denoiseSeconds}`,
    );
    await untilAcked(w.bus);
    assert.equal(await w.checkpoints.info(objectFor(taskId, spec)), null, "deleted once the latents are stored");
  } finally {
    await w.app.stop();
  }
});

test("a task whose record shows no start is not looked up: no earlier run can have checkpointed it", async () => {
  const spec = jobSpec();
  const { latents: expected, checkpoint } = await reference(spec, 5);
  const w = await startWorker({ CHECKPOINT_EVERY_SECONDS: "0" });
  const reads: string[] = [];
  const get = w.checkpoints.get.bind(w.checkpoints);
  w.checkpoints.get = (name) => {
    reads.push(name);
    return get(name);
  };
  try {
    const taskId = newTaskId();
    // Only a run can write a checkpoint, and every run reports its start first: one there anyway is not read.
    await w.checkpoints.put(objectFor(taskId, spec), encodeCheckpoint(checkpoint));
    await submit(w.ch, taskId, spec);
    const events = await eventsUntil(w.ch, ended);
    assert.deepEqual(stepsOf(events), [1, 2, 3, 4, 5, 6, 7, 8], "from step 0");
    sameLatents(await storedLatents(w.bus, taskId), expected);
    assert.deepEqual(reads, [], "no checkpoint read");
  } finally {
    await w.app.stop();
  }
});

test("a checkpoint of another spec, or a damaged one, is deleted and the run starts from step 0", async () => {
  const spec = jobSpec();
  const { latents: expected } = await reference(spec, 4);
  const { checkpoint: foreign } = await reference(jobSpec({ seed: 8 }), 4);
  const damaged = encodeCheckpoint(foreign);
  damaged.set([(damaged.at(-9) ?? 0) ^ 0x10], damaged.length - 9);
  const w = await startWorker();
  try {
    for (const bytes of [encodeCheckpoint(foreign), damaged]) {
      const taskId = newTaskId();
      const object = objectFor(taskId, spec);
      await w.checkpoints.put(object, bytes);
      await submit(w.ch, taskId, spec, TaskStatus.QUEUED, { started: true });
      const events = await eventsUntil(w.ch, ended);
      assert.deepEqual(stepsOf(events), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(events.at(-1)?.event.case, "denoised");
      sameLatents(await storedLatents(w.bus, taskId), expected);
      assert.equal(await w.checkpoints.info(object), null, "the unusable checkpoint was deleted");
    }
  } finally {
    await w.app.stop();
  }
});

test("checkpoints are written at the configured cadence and deleted after success; a failed write fails nothing and is deleted too", async () => {
  const w = await startWorker({ CHECKPOINT_EVERY_STEPS: "2", CHECKPOINT_EVERY_SECONDS: "0" });
  const written: { name: string; step: number }[] = [];
  const deleted: string[] = [];
  const { put, delete: del } = w.checkpoints;
  let failWrites: "" | "before" | "after landing" = "";
  let failDeletes = 0;
  w.checkpoints.put = async (name, data) => {
    assert.ok(data instanceof Uint8Array);
    written.push({ name, step: decodeCheckpoint(data).step });
    if (failWrites === "before") throw new Error("object store down");
    const info = await put(name, data);
    // As a publish whose ack timed out in an outage: the server has it, the writer was told it failed.
    if (failWrites === "after landing") throw new Error("TimeoutError: the ack did not come");
    return info;
  };
  w.checkpoints.delete = async (name) => {
    deleted.push(name);
    if (failDeletes-- > 0) throw new Error("object store down");
    return del(name);
  };
  try {
    const spec = jobSpec({ steps: 7 });
    const taskId = newTaskId();
    await submit(w.ch, taskId, spec);
    assert.equal((await eventsUntil(w.ch, ended)).at(-1)?.event.case, "denoised");
    const object = objectFor(taskId, spec);
    await untilAcked(w.bus);
    // Every second step counted from step 0, never after the last one (the latents are the result).
    assert.deepEqual(
      written,
      [2, 4, 6].map((step) => ({ name: object, step })),
    );
    assert.deepEqual(deleted, [object]);
    assert.equal(await w.checkpoints.info(object), null);

    failWrites = "before";
    written.length = 0;
    const other = newTaskId();
    await submit(w.ch, other, spec);
    assert.equal((await eventsUntil(w.ch, ended)).at(-1)?.event.case, "denoised", "the task went on");
    assert.ok(written.length > 0, "writes were tried");
    await untilAcked(w.bus);

    // Every write lands yet reports a failure, and the first two deletes fail: the checkpoint still goes.
    failWrites = "after landing";
    failDeletes = 2;
    written.length = 0;
    deleted.length = 0;
    const landed = newTaskId();
    await submit(w.ch, landed, spec);
    assert.equal((await eventsUntil(w.ch, ended)).at(-1)?.event.case, "denoised", "the task went on");
    await untilAcked(w.bus);
    const landedObject = objectFor(landed, spec);
    assert.deepEqual(
      written.map((x) => x.step),
      [2, 4, 6],
    );
    assert.deepEqual(deleted, [landedObject, landedObject, landedObject], "the delete was retried");
    assert.equal(await w.checkpoints.info(landedObject), null, "no checkpoint left behind");
  } finally {
    await w.app.stop();
  }
});

test("a cancelled task's checkpoint is deleted; a task handed back on shutdown keeps its checkpoint", async () => {
  const spec = jobSpec({ numFrames: 49, steps: 60 });
  const bus = createMemoryBus();
  const waitForCheckpoint = async (w: TestWorker, object: string): Promise<void> => {
    for (let i = 0; i < 400 && !(await w.checkpoints.info(object)); i++) await delay(25);
    assert.ok(await w.checkpoints.info(object), "a checkpoint was written");
  };

  const w = await startWorker({ CHECKPOINT_EVERY_STEPS: "1" }, bus);
  const kept = newTaskId();
  await submit(w.ch, kept, spec);
  await waitForCheckpoint(w, objectFor(kept, spec));
  await w.app.stop();
  assert.ok(await w.checkpoints.info(objectFor(kept, spec)), "kept for the next worker");
  await w.ch.tasks.update(kept, (r) => endTask(r, TaskStatus.CANCELLED));

  const again = await startWorker({ CHECKPOINT_EVERY_STEPS: "1" }, bus);
  try {
    const taskId = newTaskId();
    const object = objectFor(taskId, spec);
    await submit(again.ch, taskId, spec);
    await waitForCheckpoint(again, object);
    again.ch.cancellations.broadcast(taskId);
    for (let i = 0; i < 400 && (await again.checkpoints.info(object)); i++) await delay(25);
    assert.equal(await again.checkpoints.info(object), null, "deleted on cancel");
  } finally {
    await again.app.stop();
  }
});
