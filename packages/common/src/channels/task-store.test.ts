import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { newTaskId } from "../task/ids.js";
import type { Bus } from "./bus/bus.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import { record } from "./channels-contract-support.js";
import { TASK_LISTS_BUCKET } from "./task-lists.js";
import { ACTIVE_TASKS_BUCKET, type TaskStore, taskStore } from "./task-store.js";

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
