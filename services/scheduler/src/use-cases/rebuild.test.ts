import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { channels, createMemoryBus, LATENTS_STORE, type TaskStore } from "@t2v/common/channels";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { SchedulerState } from "../domain/state.js";
import { rebuildState } from "./rebuild.js";

const log = createLogger("scheduler-test", "silent");

function taskRecord(status: TaskStatus) {
  return create(TaskRecordSchema, {
    tenantId: "acme",
    pool: "standard",
    task: { taskId: newTaskId(), status, attempt: 1, createTime: timestampNow(), updateTime: timestampNow() },
  });
}

/** The store, keeping the ids each readMany was asked for. */
function recording(tasks: TaskStore): { tasks: TaskStore; asked: string[][] } {
  const asked: string[][] = [];
  return {
    tasks: {
      ...tasks,
      readMany(ids) {
        asked.push([...ids]);
        return tasks.readMany(ids);
      },
    },
    asked,
  };
}

describe("a new leader's rebuild", () => {
  it("reads the active tasks' records in one readMany and files every queued one, settling the ended", async () => {
    const bus = createMemoryBus();
    const ch = channels(bus);
    const queued: string[] = [];
    // Ended tasks in between.
    for (let i = 0; i < 600; i++) {
      const r = taskRecord(i % 10 === 9 ? TaskStatus.COMPLETED : TaskStatus.QUEUED);
      await ch.tasks.create(r);
      if (r.task?.status === TaskStatus.QUEUED) queued.push(r.task.taskId);
    }
    await ch.tasks.seeded();
    const active = await ch.tasks.activeIds();
    const store = recording(ch.tasks);
    const state = new SchedulerState();
    await rebuildState({
      tasks: store.tasks,
      usage: ch.usage,
      videoBytes: ch.videoBytes,
      latents: await bus.blobs(LATENTS_STORE),
      state,
      republish: async () => {},
      log,
      now: Date.now,
      duplicateWindowMs: 120_000,
    });
    assert.deepEqual(store.asked, [active], "the active index's ids, read at once");
    const filed = state.queue("standard");
    assert.equal(filed.size, queued.length);
    for (const id of queued) assert.ok(filed.has(id), `task ${id} filed`);
    // Ended ones were settled: out of the active index, so the next rebuild skips them.
    assert.deepEqual((await ch.tasks.activeIds()).sort(), [...queued].sort());
  });
});
