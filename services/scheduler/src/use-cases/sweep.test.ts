import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import {
  type BlobStore,
  channels,
  createMemoryBus,
  dayOf,
  LATENTS_STORE,
  latentObjectName,
  type UsageLedger,
  type VideoBytes,
} from "@t2v/common/channels";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { SchedulerState } from "../domain/state.js";
import { rebuildState } from "./rebuild.js";
import { settleEnded } from "./record-usage.js";
import { createSweeper } from "./sweep.js";

const log = createLogger("scheduler-test", "silent");
/** Where settlement deletes latents, in tests that are not about them. */
const latents = await createMemoryBus().blobs(LATENTS_STORE);

function taskRecord(status: TaskStatus, tenantId = "acme") {
  const taskId = newTaskId();
  return create(TaskRecordSchema, {
    tenantId,
    pool: "standard",
    task: { taskId, status, attempt: 1, createTime: timestampNow(), updateTime: timestampNow() },
    gpuSeconds: 3,
  });
}

/** A usage ledger whose first `failures` writes fail (NATS away), then the real one. */
function flaky(real: UsageLedger, failures: number): UsageLedger & { tries: number } {
  return {
    ...real,
    tries: 0,
    async record(r) {
      this.tries++;
      if (this.tries <= failures) throw new Error("NATS unreachable");
      return real.record(r);
    },
  };
}

describe("settling ended tasks (billing repair) and the active index", () => {
  it("bills a completed task whose usage write failed at the next sweep: exactly one usage record", async () => {
    const ch = channels(createMemoryBus());
    const usage = flaky(ch.usage, 1);
    const done = taskRecord(TaskStatus.COMPLETED);
    await ch.tasks.create(done);
    assert.equal(
      await settleEnded({ usage, videoBytes: ch.videoBytes, latents, tasks: ch.tasks, log }, done),
      false,
      "the first write fails",
    );
    assert.deepEqual(await ch.tasks.activeIds(), [done.task?.taskId], "so the task stays in the active index");

    const state = new SchedulerState();
    const sweep = createSweeper({
      tasks: ch.tasks,
      usage,
      videoBytes: ch.videoBytes,
      latents,
      state,
      log,
      now: Date.now,
      requestDispatch: () => {},
      lostAfterMs: 1_000,
    });
    await sweep();
    await sweep();
    const day = 86_400_000;
    const billed = await ch.usage.list("acme", new Date(Date.now() - day), new Date(Date.now() + day));
    assert.deepEqual(
      billed.map((u) => u.taskId),
      [done.task?.taskId],
    );
    assert.deepEqual(await ch.tasks.activeIds(), [], "settled");
    assert.equal(usage.tries, 2, "nothing written again once settled");
  });

  it("counts a completed task's video and poster bytes at the next sweep when the count failed: exactly once", async () => {
    const ch = channels(createMemoryBus());
    const done = taskRecord(TaskStatus.COMPLETED);
    Object.assign(done, { videoObject: "v.mp4", videoSizeBytes: 1_000n, posterSizeBytes: 24n });
    // Counted on its finish day, whenever it is settled.
    const finished = Date.UTC(2026, 0, 5, 23, 59);
    if (done.task) done.task.finishTime = timestampFromMs(finished);
    await ch.tasks.create(done);
    let tries = 0;
    const videoBytes: Pick<VideoBytes, "count"> = {
      async count(...args) {
        tries++;
        if (tries === 1) throw new Error("NATS unreachable");
        return ch.videoBytes.count(...args);
      },
    };
    const deps = { usage: ch.usage, videoBytes, latents, tasks: ch.tasks, log };
    assert.equal(await settleEnded(deps, done), false, "the first count fails");
    assert.deepEqual(await ch.tasks.activeIds(), [done.task?.taskId], "so the task stays in the active index");
    const sweep = createSweeper({
      ...deps,
      state: new SchedulerState(),
      now: Date.now,
      requestDispatch: () => {},
      lostAfterMs: 1_000,
    });
    await sweep();
    await sweep();
    // A redelivered "video ready" settles the task again: the marker keeps it to one count.
    assert.equal(await settleEnded(deps, done), true);
    assert.equal(await ch.videoBytes.countedOn("acme", dayOf(finished)), 1_024);
    assert.equal(await ch.videoBytes.countedOn("acme", dayOf(finished) + 1), 0);
    assert.deepEqual(await ch.tasks.activeIds(), [], "settled");
  });

  it("deletes the latents of every attempt of an ended task, and at the next sweep those a failed delete left", async () => {
    const bus = createMemoryBus();
    const ch = channels(bus);
    const store = await bus.blobs(LATENTS_STORE);
    // Attempt 1's encode failed (its latents stay behind), attempt 2 was cut off, attempt 3 completed.
    const done = taskRecord(TaskStatus.COMPLETED);
    const id = done.task?.taskId ?? "";
    if (done.task) done.task.attempt = 3;
    const other = taskRecord(TaskStatus.PROCESSING);
    const kept = latentObjectName(other.task?.taskId ?? "", 1);
    for (const name of [latentObjectName(id, 1), latentObjectName(id, 2), kept])
      await store.put(name, new Uint8Array(8));
    for (const r of [done, other]) await ch.tasks.create(r);
    let refusals = 1;
    const flakyLatents: Pick<BlobStore, "delete"> = {
      async delete(name) {
        if (name === latentObjectName(id, 2) && refusals-- > 0) throw new Error("NATS unreachable");
        await store.delete(name);
      },
    };
    const deps = { usage: ch.usage, videoBytes: ch.videoBytes, latents: flakyLatents, tasks: ch.tasks, log };
    assert.equal(await settleEnded(deps, done), false, "one delete fails");
    assert.equal(await store.info(latentObjectName(id, 1)), null, "the others went");
    assert.ok(await store.info(latentObjectName(id, 2)));
    assert.ok((await ch.tasks.activeIds()).includes(id), "so the task stays in the active index");
    const state = new SchedulerState();
    state.track(other, Date.now());
    const sweep = createSweeper({ ...deps, state, now: Date.now, requestDispatch: () => {}, lostAfterMs: 1_000 });
    await sweep();
    assert.equal(await store.info(latentObjectName(id, 2)), null, "deleted at the sweep");
    assert.deepEqual(await ch.tasks.activeIds(), [other.task?.taskId], "settled");
    assert.ok(await store.info(kept), "a running task's latents are left alone");
  });

  it("files a task whose submission never arrived, at any age; settles failed and cancelled ones unbilled", async () => {
    const ch = channels(createMemoryBus());
    const queued = taskRecord(TaskStatus.QUEUED);
    const failed = taskRecord(TaskStatus.FAILED);
    for (const r of [queued, failed]) await ch.tasks.create(r);
    const state = new SchedulerState();
    let dispatches = 0;
    const sweep = createSweeper({
      tasks: ch.tasks,
      usage: ch.usage,
      videoBytes: ch.videoBytes,
      latents,
      state,
      log,
      now: () => Date.now() + 40 * 86_400_000,
      requestDispatch: () => void dispatches++,
      lostAfterMs: 1_000,
    });
    await sweep();
    assert.equal(state.knows(queued.task?.taskId ?? ""), true);
    assert.equal(dispatches, 1);
    assert.deepEqual(await ch.tasks.activeIds(), [queued.task?.taskId]);
    const day = 86_400_000;
    assert.equal((await ch.usage.list("acme", new Date(0), new Date(Date.now() + 50 * day))).length, 0);
  });

  it("leaves a task younger than lostAfterMs to its submission, which is most likely on its way", async () => {
    const ch = channels(createMemoryBus());
    const queued = taskRecord(TaskStatus.QUEUED);
    await ch.tasks.create(queued);
    const state = new SchedulerState();
    const sweep = createSweeper({
      tasks: ch.tasks,
      usage: ch.usage,
      videoBytes: ch.videoBytes,
      latents,
      state,
      log,
      now: Date.now,
      requestDispatch: () => assert.fail("nothing to dispatch"),
      lostAfterMs: 60_000,
    });
    await sweep();
    assert.equal(state.knows(queued.task?.taskId ?? ""), false);
  });

  it("rebuilds from the active index only, after seeding it once from records written before it", async () => {
    const bus = createMemoryBus();
    const ch = channels(bus);
    const queued = taskRecord(TaskStatus.QUEUED);
    const completed = taskRecord(TaskStatus.COMPLETED);
    for (const r of [queued, completed]) await ch.tasks.create(r);
    // Records from before the index: not in it.
    for (const id of await ch.tasks.activeIds()) await ch.tasks.settled(id);
    let asked: string[] = [];
    const tasks = {
      ...ch.tasks,
      readMany: (ids: readonly string[]) => {
        asked = [...ids];
        return ch.tasks.readMany(ids);
      },
    };
    const deps = {
      tasks,
      usage: ch.usage,
      videoBytes: ch.videoBytes,
      latents,
      log,
      now: Date.now,
      duplicateWindowMs: 600_000,
      republish: async () => {},
    };
    const first = new SchedulerState();
    await rebuildState({ ...deps, state: first });
    assert.equal(first.knows(queued.task?.taskId ?? ""), true, "seeded from every record");
    assert.deepEqual(await ch.tasks.activeIds(), [queued.task?.taskId], "only the task not ended was filed");

    // Many ended tasks later, a new leader reads only the active one.
    for (let i = 0; i < 50; i++)
      await ch.tasks.settled((await ch.tasks.create(taskRecord(TaskStatus.FAILED))).record.task?.taskId ?? "");
    const second = new SchedulerState();
    await rebuildState({ ...deps, state: second });
    assert.equal(second.knows(queued.task?.taskId ?? ""), true);
    assert.deepEqual(asked, [queued.task?.taskId], "O(active tasks): one record read");
  });
});
