import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { channels, createMemoryBus, DAY_MS } from "@t2v/common/channels";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { start } from "./app.js";
import { testConfig } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

describe("scheduler app: task record retention (memory bus)", () => {
  it("applies TASK_RECORD_RETENTION_DAYS at start-up to task buckets that already exist, and to their records", async () => {
    let offsetMs = 0;
    const bus = createMemoryBus(() => Date.now() + offsetMs);
    // Written before the scheduler starts, as a gateway that started first would: the default 30 days.
    const gateway = channels(bus);
    const taskId = newTaskId();
    await gateway.tasks.create(
      create(TaskRecordSchema, {
        task: { taskId, status: TaskStatus.QUEUED, attempt: 1 },
        tenantId: "t",
        pool: "standard",
      }),
    );
    const config = testConfig({ TASK_RECORD_RETENTION_DAYS: "45" });
    const app = await start(config, { bus, log: createLogger("scheduler", "silent"), replicaId: "retention" });
    await waitUntil(async () => app.isLeader(), Boolean, "the scheduler leads");
    // Closing the memory bus ends the term's pending pulls (its buckets stay readable).
    const stopped = app.stop();
    await bus.close();
    await stopped;

    offsetMs = 40 * DAY_MS;
    assert.ok(await gateway.tasks.get(taskId), "kept past the default 30 days");
    offsetMs = 45 * DAY_MS + 1000;
    assert.equal(await gateway.tasks.get(taskId), null, "gone after 45 days");
  });
});
