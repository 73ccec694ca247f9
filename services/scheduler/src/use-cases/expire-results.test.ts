import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { channels, createMemoryBus, dayOf, RESULT_EXPIRY_BUCKET, resultExpiry } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId, retentionPolicyOf } from "@t2v/common/task";
import { createExpiryIndexer, createResultSweeper } from "./expire-results.js";

const HOUR_MS = 3600_000;
const T0 = Date.UTC(2026, 11, 1, 12, 20, 0);

function completedAt(ms: number, retentionMs?: number): TaskRecord {
  const taskId = newTaskId();
  return create(TaskRecordSchema, {
    tenantId: "acme",
    videoObject: `${taskId}.mp4`,
    posterObject: `${taskId}.jpg`,
    task: { taskId, status: TaskStatus.COMPLETED, finishTime: timestampFromMs(ms), updateTime: timestampFromMs(ms) },
    request: retentionMs === undefined ? {} : { retention: durationFromMs(retentionMs) },
  });
}

describe("result retention in the scheduler (memory bus)", () => {
  const bus = createMemoryBus();
  after(() => bus.close());
  const ch = channels(bus);
  const expiry = resultExpiry(bus);
  const retention = retentionPolicyOf(168, "s3");
  const clock = { now: T0 };
  const deletedResults: string[] = [];
  const sweep = createResultSweeper({
    expiry,
    tasks: ch.tasks,
    deleteResult: async (id) => {
      deletedResults.push(id);
    },
    videoBytes: ch.videoBytes,
    retention,
    log: createLogger("scheduler", "silent"),
    now: () => clock.now,
  });
  const index = createExpiryIndexer({ expiry, retention, now: () => clock.now });

  /** Publishes the task change, as the scheduler does at completion, and indexes it from the retention consumer. */
  async function complete(r: TaskRecord): Promise<void> {
    await ch.tasks.create(r);
    await ch.taskChanges.publish(r);
    const inbox = await expiry.changes();
    const d = await inbox.next();
    assert.equal(d?.message.task?.taskId, r.task?.taskId);
    if (d) await index(d);
  }

  it("deletes a result once its retention has passed, and only then; a default retention waits 7 days", async () => {
    const hour = completedAt(T0, HOUR_MS);
    const week = completedAt(T0);
    await complete(hour);
    await complete(week);

    clock.now = T0 + HOUR_MS - 1000;
    assert.equal(await sweep(), 0);
    clock.now = T0 + HOUR_MS;
    assert.equal(await sweep(), 1);
    assert.deepEqual(deletedResults, [hour.task?.taskId]);
    assert.equal(await sweep(), 0, "done once");

    clock.now = T0 + 168 * HOUR_MS;
    assert.equal(await sweep(), 1);
    assert.deepEqual(deletedResults, [hour.task?.taskId, week.task?.taskId]);
    const kv = await bus.kv(RESULT_EXPIRY_BUCKET);
    assert.deepEqual(await kv.keys("*.*"), [], "the index keeps nothing that was handled");
  });

  it("takes an expired result's bytes back from its tenant's count, once", async () => {
    const finished = clock.now;
    const r = completedAt(finished, HOUR_MS);
    Object.assign(r, { videoSizeBytes: 5_000n, posterSizeBytes: 100n });
    await complete(r);
    const taskId = r.task?.taskId ?? "";
    assert.equal(await ch.videoBytes.count("acme", taskId, 5_100, finished), "counted");
    await ch.videoBytes.count("acme", newTaskId(), 700, finished);
    const day = dayOf(finished);
    assert.equal(await ch.videoBytes.countedOn("acme", day), 5_800);
    clock.now = finished + HOUR_MS;
    assert.equal(await sweep(), 1);
    assert.equal(await ch.videoBytes.countedOn("acme", day), 700, "the other result is still stored");
    await ch.videoBytes.release("acme", taskId);
    assert.equal(await ch.videoBytes.countedOn("acme", day), 700, "a later DeleteTask takes nothing more");
  });

  it("drops the entry of a task its owner already deleted, without deleting again", async () => {
    const finished = clock.now;
    const r = completedAt(finished, HOUR_MS);
    await complete(r);
    await ch.tasks.update(r.task?.taskId ?? "", (x) => {
      if (x.task) x.task.resultState = ResultState.DELETED;
      return x;
    });
    const before = deletedResults.length;
    clock.now = finished + 2 * HOUR_MS;
    assert.equal(await sweep(), 1);
    assert.equal(deletedResults.length, before);
  });

  it("still deletes a result indexed after its expiry had passed (the indexer was behind)", async () => {
    const r = completedAt(clock.now - 5 * HOUR_MS, HOUR_MS);
    await complete(r);
    assert.equal(await sweep(), 1);
    assert.equal(deletedResults.at(-1), r.task?.taskId);
  });

  it("does not index tasks that failed or have no video", async () => {
    const failed = completedAt(clock.now, HOUR_MS);
    if (failed.task) failed.task.status = TaskStatus.FAILED;
    await complete(failed);
    const noVideo = completedAt(clock.now, HOUR_MS);
    noVideo.videoObject = "";
    await complete(noVideo);
    clock.now += 3 * HOUR_MS;
    assert.equal(await sweep(), 0);
  });
});
