import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { channels, createMemoryBus, latentObjectName, openMediaStores } from "@t2v/common/channels";
import {
  CreateTaskRequestSchema,
  ResultState,
  TaskStatus,
  VideoService,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, patchRecord } from "@t2v/common/task";
import { buildGateway } from "./app.js";
import { publicResolver, silentLog, tenant, testConfig } from "./testing/gateway-fixture.js";

const HOUR_MS = 3600_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** The gateway on an in-memory bus, through the router transport, with a clock the test moves. */
async function fixture() {
  const bus = createMemoryBus();
  const clock = { now: T0 };
  const parts = await buildGateway(testConfig(), {
    bus,
    log: silentLog,
    resolve: publicResolver,
    randomSeed: () => 1,
    clock: () => clock.now,
  });
  const keys = await openApiKeyStore(bus);
  const ch = channels(bus);
  const media = await openMediaStores(bus, { videoTtlHours: 168 });
  const client = createClient(VideoService, createRouterTransport(parts.routes));
  const alice = await tenant(keys, "alice");
  const bob = await tenant(keys, "bob");

  /** A task of alice's that the scheduler completed at `clock.now`, with its video, poster and latents stored. */
  async function completed(extra: Partial<{ retentionMs: number }> = {}) {
    const req = create(CreateTaskRequestSchema, { prompt: "a lighthouse at dusk" });
    if (extra.retentionMs !== undefined) req.retention = durationFromMs(extra.retentionMs);
    const task = await client.createTask(req, alice.auth);
    const id = task.taskId;
    await media.videos.put(`${id}.mp4`, new Uint8Array([1, 2, 3]));
    await media.videos.put(`${id}.jpg`, new Uint8Array([4, 5]));
    await media.latents.put(latentObjectName(id, 1), new Uint8Array([6]));
    await ch.tasks.update(id, (r) => {
      const done = endTask(
        patchRecord(r, { attempt: 1 }, { dispatchedAttempt: 1 }),
        TaskStatus.COMPLETED,
        {},
        timestampFromMs(clock.now),
      );
      if (done) {
        done.videoObject = `${id}.mp4`;
        done.posterObject = `${id}.jpg`;
      }
      return done;
    });
    return id;
  }

  return { bus, clock, ch, media, client, alice, bob, completed, stop: () => bus.close() };
}

async function rejectsWith(p: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe("results: retention, expiry and DeleteTask (router transport, memory bus)", async () => {
  const f = await fixture();
  after(() => f.stop());

  it("a completed task reads AVAILABLE with links until its expire time (finish + 7 days by default), then EXPIRED with none", async () => {
    const id = await f.completed();
    const t = await f.client.getTask({ taskId: id }, f.alice.auth);
    assert.equal(t.resultState, ResultState.AVAILABLE);
    assert.match(t.resultUrl, new RegExp(`/v1/videos/${id}\\.mp4\\?exp=`));
    assert.match(t.posterUrl, new RegExp(`/v1/videos/${id}\\.jpg\\?exp=`));
    assert.equal(t.expireTime && timestampDate(t.expireTime).getTime(), T0 + 168 * HOUR_MS);
    // RESULT_URL_TTL_SECONDS (1 day) from the finish time, within the retention.
    assert.equal(t.resultExpireTime && timestampDate(t.resultExpireTime).getTime(), T0 + 24 * HOUR_MS);

    f.clock.now = T0 + 168 * HOUR_MS;
    const expired = await f.client.getTask({ taskId: id }, f.alice.auth);
    assert.equal(expired.resultState, ResultState.EXPIRED);
    assert.equal(expired.status, TaskStatus.COMPLETED);
    assert.equal(expired.resultUrl, "");
    assert.equal(expired.posterUrl, "");
    assert.equal(expired.resultExpireTime, undefined);
    const listed = (await f.client.listTasks({}, f.alice.auth)).tasks.find((x) => x.taskId === id);
    assert.equal(listed?.resultState, ResultState.EXPIRED);
    assert.equal(listed?.resultUrl, "");
    f.clock.now = T0;
  });

  it("honours a request's retention: 1 hour expires the result after an hour, and links never outlive it", async () => {
    const id = await f.completed({ retentionMs: HOUR_MS });
    const t = await f.client.getTask({ taskId: id }, f.alice.auth);
    assert.equal(t.resultState, ResultState.AVAILABLE);
    assert.equal(t.expireTime && timestampDate(t.expireTime).getTime(), T0 + HOUR_MS);
    assert.equal(t.resultExpireTime && timestampDate(t.resultExpireTime).getTime(), T0 + HOUR_MS);
    f.clock.now = T0 + HOUR_MS - 1000;
    assert.equal((await f.client.getTask({ taskId: id }, f.alice.auth)).resultState, ResultState.AVAILABLE);
    f.clock.now = T0 + HOUR_MS;
    const gone = await f.client.getTask({ taskId: id }, f.alice.auth);
    assert.equal(gone.resultState, ResultState.EXPIRED);
    assert.equal(gone.resultUrl, "");
    f.clock.now = T0;
  });

  it("a running task has no expire time and no result state", async () => {
    const t = await f.client.createTask({ prompt: "still queued" }, f.alice.auth);
    const got = await f.client.getTask({ taskId: t.taskId }, f.alice.auth);
    assert.equal(got.resultState, ResultState.UNSPECIFIED);
    assert.equal(got.expireTime, undefined);
    assert.equal(got.resultUrl, "");
  });

  it("refuses a retention outside 1 hour..30 days, naming the field", async () => {
    for (const ms of [HOUR_MS - 1000, 30 * 24 * HOUR_MS + 1000]) {
      await assert.rejects(
        f.client.createTask({ prompt: "x", retention: durationFromMs(ms) }, f.alice.auth),
        (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, Code.InvalidArgument);
          assert.match(err.message, /retention/);
          return true;
        },
      );
    }
    const ok = await f.client.createTask({ prompt: "x", retention: durationFromMs(30 * 24 * HOUR_MS) }, f.alice.auth);
    assert.ok(ok.taskId);
  });

  it("DeleteTask is owner only: another tenant's, a missing and a malformed id all read NOT_FOUND, and nothing is deleted", async () => {
    const id = await f.completed();
    await rejectsWith(f.client.deleteTask({ taskId: id }, f.bob.auth), Code.NotFound);
    await rejectsWith(
      f.client.deleteTask({ taskId: "0190aaaa-0000-7000-8000-000000000000" }, f.alice.auth),
      Code.NotFound,
    );
    await rejectsWith(f.client.deleteTask({ taskId: "not-a-task" }, f.alice.auth), Code.NotFound);
    await rejectsWith(f.client.deleteTask({ taskId: "" }, f.alice.auth), Code.InvalidArgument);
    assert.ok(await f.media.videos.info(`${id}.mp4`));
    assert.equal((await f.client.getTask({ taskId: id }, f.alice.auth)).resultState, ResultState.AVAILABLE);
  });

  it("DeleteTask removes video, poster and latents, reads DELETED with empty links, publishes a change, and is idempotent", async () => {
    const id = await f.completed();
    const inbox = await f.ch.taskChanges.inbox();
    const deleted = await f.client.deleteTask({ taskId: id }, f.alice.auth);
    assert.equal(deleted.resultState, ResultState.DELETED);
    assert.equal(deleted.status, TaskStatus.COMPLETED, "the status stays what it was");
    assert.equal(deleted.resultUrl, "");
    assert.equal(deleted.posterUrl, "");
    assert.equal(await f.media.videos.info(`${id}.mp4`), null);
    assert.equal(await f.media.videos.info(`${id}.jpg`), null);
    assert.equal(await f.media.latents.info(latentObjectName(id, 1)), null);

    const got = await f.client.getTask({ taskId: id }, f.alice.auth);
    assert.equal(got.resultState, ResultState.DELETED);
    assert.equal(got.resultUrl, "");

    // The change reaches webhook listeners (its own id: status and attempt did not change).
    for (;;) {
      const d = await inbox.next();
      assert.ok(d, "a task change");
      d.ack();
      if (d.message.task?.taskId === id && d.message.task.resultState === ResultState.DELETED) break;
    }

    const again = await f.client.deleteTask({ taskId: id }, f.alice.auth);
    assert.equal(again.resultState, ResultState.DELETED);
    assert.deepEqual(again.updateTime, deleted.updateTime, "a second delete changes nothing");
  });

  it("DeleteTask cancels a task that is still running first", async () => {
    const t = await f.client.createTask({ prompt: "cancel me by deleting" }, f.alice.auth);
    const deleted = await f.client.deleteTask({ taskId: t.taskId }, f.alice.auth);
    assert.equal(deleted.status, TaskStatus.CANCELLED);
    assert.equal(deleted.resultState, ResultState.DELETED);
    assert.equal(deleted.errorCode, "CANCELLED_BY_USER");
  });
});
