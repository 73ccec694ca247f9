import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { channels, createMemoryBus, dayOf } from "@t2v/common/channels";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, patchRecord } from "@t2v/common/task";
import { VIDEO_BYTES_TODAY_REFRESH_MS } from "./adapters/video-bytes-window.js";
import { buildGateway, start } from "./app.js";
import { GIB } from "./domain/video-bytes-quota.js";
import { publicResolver, silentLog, tenant, testConfig } from "./testing/gateway-fixture.js";
import { refusal } from "./testing/refusal.js";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const ENV = { VIDEO_BYTES_PER_TENANT_STANDARD_GB: "1" };

/** The gateway on an in-memory bus with a clock the test moves, and the scheduler's side of the channels. */
async function fixture() {
  const bus = createMemoryBus();
  const clock = { now: T0 };
  const gatewayOn = async () => {
    const parts = await buildGateway(testConfig(ENV), {
      bus,
      log: silentLog,
      resolve: publicResolver,
      clock: () => clock.now,
    });
    return { parts, client: createClient(VideoService, createRouterTransport(parts.routes)) };
  };
  const first = await gatewayOn();
  const keys = await openApiKeyStore(bus);
  const ch = channels(bus);
  const alice = await tenant(keys, "alice");
  const bob = await tenant(keys, "bob");

  /** Completes one of alice's tasks with a video and poster of `bytes` in all, counted as the scheduler settles it. */
  async function completed(bytes: number): Promise<string> {
    const poster = Math.min(100, bytes - 1);
    const id = (await first.client.createTask({ prompt: "a lighthouse at dusk" }, alice.auth)).taskId;
    const stored = await ch.tasks.update(id, (r) => {
      const done = endTask(patchRecord(r, { attempt: 1 }), TaskStatus.COMPLETED, {}, timestampFromMs(clock.now));
      return (
        done &&
        patchRecord(
          done,
          {},
          {
            videoObject: `${id}.mp4`,
            posterObject: `${id}.jpg`,
            videoSizeBytes: BigInt(bytes - poster),
            posterSizeBytes: BigInt(poster),
          },
        )
      );
    });
    assert.ok(stored);
    assert.equal(await ch.videoBytes.count("alice", id, bytes, clock.now), "counted");
    return id;
  }

  const stop = async () => {
    first.parts.stopping.abort();
    await bus.close();
  };
  return { bus, clock, ch, gatewayOn, client: first.client, alice, bob, completed, stop };
}

describe("video byte cap per tenant (gateway on the memory bus)", () => {
  it("refuses a tenant whose stored videos reach its cap, on every replica, while another tenant is still admitted", async () => {
    const f = await fixture();
    try {
      const id = await f.completed(GIB - 1);
      f.clock.now += VIDEO_BYTES_TODAY_REFRESH_MS;
      await f.client.createTask({ prompt: "under the cap by a byte" }, f.alice.auth);
      await f.completed(1);
      // The sum is cached for a few seconds: the next refresh sees the cap reached.
      f.clock.now += VIDEO_BYTES_TODAY_REFRESH_MS;
      const spentBefore = await f.ch.dailyTaskCounts.count("alice", f.clock.now);
      const err = await refusal(() => f.client.createTask({ prompt: "one too many" }, f.alice.auth));
      assert.equal(err.code, Code.ResourceExhausted);
      const [info] = err.findDetails(ErrorInfoSchema);
      assert.equal(info?.reason, "VIDEO_BYTES_EXCEEDED");
      assert.deepEqual(info?.metadata, {
        tier: "standard",
        limit_bytes: String(GIB),
        stored_bytes: String(GIB),
        window_days: "8",
      });
      assert.equal(err.findDetails(QuotaFailureSchema)[0]?.violations[0]?.subject, "tenant:alice");
      assert.ok(Number(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds) > 0);
      assert.equal(
        await f.ch.dailyTaskCounts.count("alice", f.clock.now),
        spentBefore,
        "the refusal gave its day's count back",
      );
      // Reruns create tasks too.
      assert.equal(
        (await refusal(() => f.client.rerunTask({ taskId: id }, f.alice.auth))).code,
        Code.ResourceExhausted,
      );
      // The cap is per tenant: bob has stored nothing.
      await f.client.createTask({ prompt: "bob's" }, f.bob.auth);
      // The counts live in KV: another replica agrees.
      const second = await f.gatewayOn();
      const err2 = await refusal(() => second.client.createTask({ prompt: "elsewhere" }, f.alice.auth));
      assert.equal(err2.findDetails(ErrorInfoSchema)[0]?.reason, "VIDEO_BYTES_EXCEEDED");
      second.parts.stopping.abort();
    } finally {
      await f.stop();
    }
  });

  it("admits again once a result is deleted (at once on the replica that deleted it), and counts only the window", async () => {
    const f = await fixture();
    try {
      const id = await f.completed(GIB);
      f.clock.now += VIDEO_BYTES_TODAY_REFRESH_MS;
      await refusal(() => f.client.createTask({ prompt: "full" }, f.alice.auth));
      await f.client.deleteTask({ taskId: id }, f.alice.auth);
      assert.equal(await f.ch.videoBytes.countedOn("alice", dayOf(T0)), 0, "taken back from its day");
      await f.client.createTask({ prompt: "room again" }, f.alice.auth);
      // A second delete takes nothing more.
      await f.client.deleteTask({ taskId: id }, f.alice.auth);
      await f.completed(GIB);
      // Seven days on (VIDEO_TTL_HOURS 168) that day's results may still be stored; eight days on they cannot.
      f.clock.now = T0 + 7 * 86_400_000;
      await refusal(() => f.client.createTask({ prompt: "a week on" }, f.alice.auth));
      f.clock.now = T0 + 8 * 86_400_000;
      await f.client.createTask({ prompt: "eight days on" }, f.alice.auth);
    } finally {
      await f.stop();
    }
  });

  it("answers the REST API with 429, Retry-After and the error code", async () => {
    const bus = createMemoryBus();
    const gateway = await start(testConfig(ENV), { bus, log: silentLog, resolve: publicResolver });
    try {
      const alice = await tenant(await openApiKeyStore(bus), "alice");
      await channels(bus).videoBytes.count("alice", "earlier", GIB, Date.now());
      const refused = await fetch(`http://127.0.0.1:${gateway.port}/v1/t2v/generate`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice.key}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "a cat" }),
      });
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
      const body = (await refused.json()) as { error: { error_code?: string } };
      assert.equal(body.error.error_code, "VIDEO_BYTES_EXCEEDED");
    } finally {
      const stopped = gateway.stop();
      await bus.close();
      await stopped;
    }
  });
});
