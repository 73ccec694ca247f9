import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { channels, createMemoryBus, LATENTS_STORE } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { SchedulerState } from "../domain/state.js";
import { createSchedulerMetrics } from "../metrics.js";
import { NotLeaderError, type TermFence } from "./leadership.js";
import { createRecordWriter } from "./write-record.js";

const log = createLogger("scheduler-test", "silent");

/** A fence held for its first `checks` checks: a replica stopped past its lease between them. */
function lapsingFence(term: bigint, checks: number): TermFence & { asked: number } {
  const fence = {
    term,
    asked: 0,
    held: () => fence.asked <= checks,
    check() {
      fence.asked++;
      if (!fence.held()) throw new NotLeaderError("the lease went unrenewed");
    },
  };
  return fence;
}

async function setUp(fence: TermFence) {
  const bus = createMemoryBus();
  const ch = channels(bus);
  const state = new SchedulerState();
  const write = createRecordWriter({
    tasks: ch.tasks,
    taskChanges: ch.taskChanges,
    usage: ch.usage,
    videoBytes: ch.videoBytes,
    latents: await bus.blobs(LATENTS_STORE),
    metrics: createSchedulerMetrics(() => ({ state, groups: [] })),
    log,
    fence,
  });
  return { ch, write };
}

async function queuedTask(ch: ReturnType<typeof channels>) {
  const taskId = newTaskId();
  return ch.tasks.create(
    create(TaskRecordSchema, {
      tenantId: "acme",
      pool: "standard",
      task: { taskId, status: TaskStatus.QUEUED, attempt: 1, createTime: timestampNow(), updateTime: timestampNow() },
    }),
  );
}

const processing = (r: TaskRecord): TaskRecord => ({
  ...r,
  task: r.task ? { ...r.task, status: TaskStatus.PROCESSING } : undefined,
});

describe("the record writer's fence", () => {
  it("writes a status change with its term while the fence holds", async () => {
    const fence = lapsingFence(7n, Number.POSITIVE_INFINITY);
    const { ch, write } = await setUp(fence);
    const stored = await queuedTask(ch);
    const written = await write(stored, processing(stored.record));
    assert.equal(written?.record.leaderTerm, 7n);
    assert.equal(fence.asked, 2, "checked before the list writes and again before the record's");
    assert.equal((await ch.tasks.get(stored.record.task?.taskId ?? ""))?.record.task?.status, TaskStatus.PROCESSING);
  });

  it("leaves the record when the term lapses while the task lists are written", async () => {
    const { ch, write } = await setUp(lapsingFence(7n, 1));
    const stored = await queuedTask(ch);
    await assert.rejects(write(stored, processing(stored.record)), NotLeaderError);
    const after = await ch.tasks.get(stored.record.task?.taskId ?? "");
    assert.equal(after?.revision, stored.revision);
    assert.equal(after?.record.task?.status, TaskStatus.QUEUED);
  });

  it("never writes over a record of a later term", async () => {
    const { ch, write } = await setUp(lapsingFence(7n, Number.POSITIVE_INFINITY));
    const stored = await queuedTask(ch);
    const later = await ch.tasks.replace({ ...stored.record, leaderTerm: 9n }, stored.revision);
    assert.ok(later);
    await assert.rejects(write(later, processing(later.record)), NotLeaderError);
    assert.equal((await ch.tasks.get(stored.record.task?.taskId ?? ""))?.revision, later.revision);
  });
});
