import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newTaskId } from "../task/ids.js";
import type { Bus } from "./bus/bus.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import { record } from "./channels-contract-support.js";
import { TASK_INDEX_BUCKET, taskStore } from "./task-store.js";

describe("taskStore.create (index and record written at once)", () => {
  it("leaves no record behind when the tenant index could not be written, so no unlisted task exists", async () => {
    const bus = createMemoryBus();
    let failIndex = true;
    const flaky: Bus = {
      ...bus,
      async kv(spec) {
        const kv = await bus.kv(spec);
        if (spec.name !== TASK_INDEX_BUCKET.name) return kv;
        return { ...kv, put: (k, v) => (failIndex ? Promise.reject(new Error("index unavailable")) : kv.put(k, v)) };
      },
    };
    const tasks = taskStore(flaky);
    const id = newTaskId();
    await assert.rejects(tasks.create(record(id)), /index unavailable/);
    assert.equal(await tasks.get(id), null);
    failIndex = false;
    await tasks.create(record(id));
    assert.deepEqual(await tasks.idsOf("acme"), [id]);
    await assert.rejects(tasks.create(record(id)), /already exists/);
    await bus.close();
  });
});
