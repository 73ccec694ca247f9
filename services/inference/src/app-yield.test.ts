import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  CHECKPOINTS_STORE,
  type Channels,
  checkpointObjectName,
  createMemoryBus,
  latentObjectName,
  type MemoryBus,
  openMediaStores,
} from "@t2v/common/channels";
import { GenerateJobSchema, type GenerationSpec as JobSpec } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId, patchRecord } from "@t2v/common/task";
import { checkpointKey, decodeCheckpoint, decodeLatents, type Latents } from "@t2v/model";
import { toGenerationSpec } from "./domain/to-generation-spec.js";
import { smallJobSpec, submitJob as submit } from "./testing/jobs.js";
import { startTestWorker, type TestWorker, useReferenceModel } from "./testing/reference-worker.js";

const model = useReferenceModel();
// Enough steps that a control sent after the first one lands well before the last.
const spec: JobSpec = smallJobSpec({ steps: 40, numFrames: 33 });

// No periodic checkpoint: the one the yield leaves is the only one.
const startWorker = (bus: MemoryBus = createMemoryBus()): Promise<TestWorker> =>
  startTestWorker(model(), { CHECKPOINT_EVERY_SECONDS: "0" }, bus);

/** Worker events until `done`; `onEvent` may act on each (send a control after a step). */
async function events(
  ch: Channels,
  done: (e: WorkerEvent) => boolean,
  onEvent: (e: WorkerEvent) => void = () => {},
  ms = 60_000,
) {
  const inbox = await ch.workerEvents.inbox();
  const seen: WorkerEvent[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const d = await inbox.next(Math.max(1, until - Date.now()));
    if (!d) break;
    d.ack();
    seen.push(d.message);
    onEvent(d.message);
    if (done(d.message)) break;
  }
  return seen;
}

const finished = (e: WorkerEvent): boolean =>
  e.event.case === "denoised" || e.event.case === "failed" || e.event.case === "yielded";

async function untilAcked(bus: MemoryBus): Promise<void> {
  for (let i = 0; i < 500 && bus.streamMessages("T2V_GENERATE").length > 0; i++) await delay(10);
  assert.equal(bus.streamMessages("T2V_GENERATE").length, 0, "the job was acked");
}

async function latentsOf(bus: MemoryBus, taskId: string, attempt: number): Promise<Latents> {
  const { latents } = await openMediaStores(bus, { videoTtlHours: 1 });
  const bytes = await latents.get(latentObjectName(taskId, attempt));
  assert.ok(bytes, "latents stored");
  return decodeLatents(bytes);
}

for (const kind of ["pause", "yield"] as const) {
  test(`a ${kind} stops the running denoise at a step boundary, keeps its checkpoint, and the next attempt ends bit-identical`, async () => {
    const done = await model().generator.generate(toGenerationSpec(spec));
    assert.equal(done.kind, "done");
    const bus = createMemoryBus();
    const w = await startWorker(bus);
    try {
      const taskId = newTaskId();
      await submit(w.ch, taskId, spec);
      let sent = false;
      const first = await events(w.ch, finished, (e) => {
        if (e.event.case === "step" && !sent) {
          sent = true;
          w.ch.taskControls.broadcast({ taskId, kind, attempt: kind === "yield" ? 1 : 0 });
        }
      });
      const last = first.at(-1)?.event;
      assert.equal(last?.case, "yielded", `ended with ${last?.case}`);
      const y = last.value;
      assert.equal(y.reason, kind === "pause" ? "pause" : "preempt");
      assert.ok(y.step >= 1 && y.step < 40, `yielded at step ${y.step}`);
      assert.equal(y.totalSteps, 40);
      assert.equal(
        y.checkpointObject,
        checkpointObjectName(taskId, checkpointKey(toGenerationSpec(spec), model().generator.info)),
      );
      await untilAcked(bus);
      const store = await bus.blobs(CHECKPOINTS_STORE);
      const bytes = await store.get(y.checkpointObject);
      assert.ok(bytes, "the checkpoint is kept");
      assert.equal(decodeCheckpoint(bytes).step, y.step);

      // The next attempt (as ResumeTask or the scheduler's requeue dispatch it, the first one's
      // start applied) resumes from there.
      await w.ch.tasks.update(taskId, (r) =>
        patchRecord(r, { attempt: 2, startTime: r.task?.startTime ?? timestampNow() }),
      );
      await w.ch.generateJobs.publish(create(GenerateJobSchema, { taskId, attempt: 2, spec }), "standard");
      const second = await events(w.ch, finished);
      assert.equal(second.at(-1)?.event.case, "denoised");
      const steps = second.flatMap((e) => (e.event.case === "step" ? [e.event.value.step] : []));
      assert.equal(steps[0], y.step, "progress goes on from the checkpoint");
      assert.equal(steps.at(-1), 40);
      const got = await latentsOf(bus, taskId, 2);
      assert.ok(done.kind === "done");
      assert.ok(Buffer.from(got.data.buffer).equals(Buffer.from(done.latents.data.buffer)), "bit-identical latents");
    } finally {
      await w.app.stop();
    }
  });
}

test("a yield naming another attempt is ignored; a job whose task reads PAUSED is skipped", async () => {
  const bus = createMemoryBus();
  const w = await startWorker(bus);
  try {
    const taskId = newTaskId();
    await submit(w.ch, taskId, smallJobSpec({ steps: 6 }));
    let sent = false;
    const run = await events(w.ch, finished, (e) => {
      if (e.event.case === "step" && !sent) {
        sent = true;
        w.ch.taskControls.broadcast({ taskId, kind: "yield", attempt: 7 });
      }
    });
    assert.equal(run.at(-1)?.event.case, "denoised");

    const pausedId = newTaskId();
    await submit(w.ch, pausedId, smallJobSpec({ steps: 6 }), TaskStatus.PAUSED);
    await untilAcked(bus);
    const none = await events(
      w.ch,
      () => false,
      () => {},
      500,
    );
    assert.deepEqual(
      none.filter((e) => e.taskId === pausedId).map((e) => e.event.case),
      [],
    );
  } finally {
    await w.app.stop();
  }
});
