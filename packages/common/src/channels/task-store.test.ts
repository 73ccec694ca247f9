import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { newTaskId } from "../task/ids.js";
import type { Bus } from "./bus/bus.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import { record } from "./channels-contract-support.js";
import { TASK_LISTS_BUCKET } from "./task-lists.js";
import { ACTIVE_TASKS_BUCKET, TASKS_BUCKET, type TaskStore, taskStore } from "./task-store.js";

const listed = async (tasks: TaskStore, tenantId: string): Promise<string[]> =>
  (await tasks.page({ tenantId, status: TaskStatus.UNSPECIFIED, from: null, limit: 100, maxSlots: 400 })).tasks.map(
    (t) => t.record.task?.taskId ?? "",
  );

describe("taskStore.create (lists, active index and record written at once)", () => {
  for (const bucket of [TASK_LISTS_BUCKET.name, ACTIVE_TASKS_BUCKET.name]) {
    it(`leaves no record behind when ${bucket} could not be written, so no unlisted or unswept task exists`, async () => {
      const bus = createMemoryBus();
      let failing = true;
      const refuse = (): Promise<never> => Promise.reject(new Error("index unavailable"));
      const flaky: Bus = {
        ...bus,
        async kv(spec) {
          const kv = await bus.kv(spec);
          if (spec.name !== bucket) return kv;
          return {
            ...kv,
            put: (k, v) => (failing ? refuse() : kv.put(k, v)),
            create: (k, v) => (failing ? refuse() : kv.create(k, v)),
            update: (k, v, r) => (failing ? refuse() : kv.update(k, v, r)),
          };
        },
      };
      const tasks = taskStore(flaky);
      const id = newTaskId();
      await assert.rejects(tasks.create(record(id)), /index unavailable/);
      assert.equal(await tasks.get(id), null);
      failing = false;
      await tasks.create(record(id));
      assert.deepEqual(await listed(tasks, "acme"), [id]);
      assert.deepEqual(await tasks.activeIds(), [id]);
      await assert.rejects(tasks.create(record(id)), /already exists/);
      await bus.close();
    });
  }

  it("deletes the record whatever its revision: the scheduler may have written it before the index write failed", async () => {
    const bus = createMemoryBus();
    let failIndex = (): void => undefined;
    const indexFails = new Promise<void>((resolve) => {
      failIndex = resolve;
    });
    const flaky: Bus = {
      ...bus,
      async kv(spec) {
        const kv = await bus.kv(spec);
        if (spec.name !== ACTIVE_TASKS_BUCKET.name) return kv;
        return {
          ...kv,
          put: async () => {
            await indexFails;
            throw new Error("index unavailable");
          },
        };
      },
    };
    const tasks = taskStore(flaky);
    const scheduler = taskStore(bus);
    const id = newTaskId();
    const creating = tasks.create(record(id));
    // The submission went out beside the create: the scheduler reads the record and writes it.
    let stored = await scheduler.get(id);
    for (let i = 0; i < 100 && !stored; i++) stored = await scheduler.get(id);
    assert.ok(stored, "the record was written before the index write failed");
    assert.ok(await scheduler.update(id, (r) => ({ ...r, dispatchedAttempt: 1 })), "the scheduler wrote it");
    failIndex();
    await assert.rejects(creating, /index unavailable/);
    assert.equal(await scheduler.get(id), null, "no record left for a task its caller was told failed");
    await bus.close();
  });
});

describe("taskStore.readMany", () => {
  /** A memory bus whose task records count their gets (most at once, in all) and passes. */
  function countingBus() {
    const bus = createMemoryBus();
    const seen = { running: 0, most: 0, gets: 0, passes: 0 };
    const counting: Bus = {
      ...bus,
      async kv(spec) {
        const kv = await bus.kv(spec);
        if (spec.name !== TASKS_BUCKET.name) return kv;
        return {
          ...kv,
          async get(key) {
            seen.gets++;
            seen.most = Math.max(seen.most, ++seen.running);
            try {
              return await kv.get(key);
            } finally {
              seen.running--;
            }
          },
          entries() {
            seen.passes++;
            return kv.entries();
          },
        };
      },
    };
    return { bus: counting, seen };
  }
  const fill = async (tasks: TaskStore, n: number): Promise<string[]> => {
    const ids = Array.from({ length: n }, () => newTaskId());
    for (const id of ids) await tasks.create(record(id));
    return ids;
  };
  const count = async (it: AsyncIterable<unknown>): Promise<number> => {
    let n = 0;
    for await (const _ of it) n++;
    return n;
  };

  it("gets a few of many records, many at once (more than one read-ahead batch)", async () => {
    const { bus, seen } = countingBus();
    const tasks = taskStore(bus);
    const ids = await fill(tasks, 5_000);
    seen.gets = 0;
    assert.equal(await count(tasks.readMany(ids.slice(0, 600))), 600);
    assert.equal(seen.passes, 0);
    assert.equal(seen.gets, 600);
    assert.ok(seen.most > 1, `read concurrently (at most ${seen.most} at once)`);
  });

  it("reads most of the records in one pass, with no get", async () => {
    const { bus, seen } = countingBus();
    const tasks = taskStore(bus);
    const ids = await fill(tasks, 600);
    seen.gets = 0;
    assert.equal(await count(tasks.readMany(ids.filter((_, i) => i % 10 !== 0))), 540);
    assert.equal(seen.passes, 1);
    assert.equal(seen.gets, 0);
  });
});
