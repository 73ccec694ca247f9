import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { channels, createMemoryBus, DAY_MS, type MemoryBus } from "@t2v/common/channels";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId } from "@t2v/common/task";
import { STORED_WINDOW_PAST_DAYS } from "../adapters/stored-task-window.js";
import { buildGateway, start } from "../app.js";
import { msUntilNextUtcDay } from "../domain/daily-quota.js";
import { publicResolver, rpcFixture, silentLog, tenant, testConfig } from "../testing/gateway-fixture.js";
import { refusal } from "../testing/refusal.js";
import { chargeDailyQuotaUseCase } from "./charge-daily-quota.js";

describe("daily task quota (gateway on the memory bus)", () => {
  it("counts every new task, cancelled ones too, not idempotent replays; then RESOURCE_EXHAUSTED with details until midnight UTC", async () => {
    const f = await rpcFixture({ DAILY_TASK_QUOTA_STANDARD: "3" });
    const first = await f.client.createTask({ prompt: "a", idempotencyKey: "k1" }, f.alice.auth);
    await f.client.cancelTask({ taskId: first.taskId }, f.alice.auth);
    const replay = await f.client.createTask({ prompt: "a", idempotencyKey: "k1" }, f.alice.auth);
    assert.equal(replay.taskId, first.taskId);
    await f.client.createTask({ prompt: "b" }, f.alice.auth);
    await f.client.createTask({ prompt: "c" }, f.alice.auth);
    const err = await refusal(() => f.client.createTask({ prompt: "d" }, f.alice.auth));
    const before = Date.now();
    assert.equal(err.code, Code.ResourceExhausted);
    assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "DAILY_QUOTA_EXCEEDED");
    assert.equal(err.findDetails(QuotaFailureSchema)[0]?.violations[0]?.subject, "tenant:alice");
    const delayS = Number(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds ?? -1);
    assert.ok(delayS > 0 && delayS <= msUntilNextUtcDay(before) / 1000 + 1, `${delayS} s`);
    // Reruns create tasks too.
    assert.equal(
      (await refusal(() => f.client.rerunTask({ taskId: first.taskId }, f.alice.auth))).code,
      Code.ResourceExhausted,
    );
    // Another tenant has its own count.
    await f.client.createTask({ prompt: "bob's" }, f.bob.auth);
    // The count lives in KV: a second gateway on the same bus agrees.
    const second = await buildGateway(testConfig({ DAILY_TASK_QUOTA_STANDARD: "3" }), {
      bus: f.bus,
      log: silentLog,
      resolve: publicResolver,
    });
    const client2 = createClient(VideoService, createRouterTransport(second.routes));
    assert.equal((await refusal(() => client2.createTask({ prompt: "e" }, f.alice.auth))).code, Code.ResourceExhausted);
    assert.equal(await f.ch.dailyTaskCounts.count("alice", Date.now()), 3);
    second.stopping.abort();
    f.parts.stopping.abort();
    await f.bus.close();
  });

  it("answers the REST API with 429, Retry-After and the error code", async () => {
    const bus = createMemoryBus();
    const gateway = await start(testConfig({ DAILY_TASK_QUOTA_STANDARD: "1" }), {
      bus,
      log: silentLog,
      resolve: publicResolver,
    });
    try {
      const alice = await tenant(await openApiKeyStore(bus), "alice");
      const generate = () =>
        fetch(`http://127.0.0.1:${gateway.port}/v1/t2v/generate`, {
          method: "POST",
          headers: { authorization: `Bearer ${alice.key}`, "content-type": "application/json" },
          body: JSON.stringify({ prompt: "a cat" }),
        });
      assert.equal((await generate()).status, 200);
      const refused = await generate();
      assert.equal(refused.status, 429);
      const retryAfter = Number(refused.headers.get("retry-after"));
      assert.ok(retryAfter > 0 && retryAfter <= 86_400, `Retry-After ${retryAfter}`);
      const body = (await refused.json()) as { error: { error_code?: string } };
      assert.equal(body.error.error_code, "DAILY_QUOTA_EXCEEDED");
    } finally {
      const stopped = gateway.stop();
      await bus.close();
      await stopped;
    }
  });

  it("does not count a refusal, and counts from replicas together exactly (CAS)", async () => {
    const f = await rpcFixture();
    const charge = (limit: number) =>
      chargeDailyQuotaUseCase({
        counts: channels(f.bus).dailyTaskCounts,
        quota: { vip: limit, standard: limit, batch: limit },
        now: () => Date.UTC(2026, 11, 1, 12),
      });
    const replicas = [charge(10), charge(10), charge(10)];
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => replicas[i % 3]?.("carol", "batch")));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 10);
    assert.equal(await f.ch.dailyTaskCounts.count("carol", Date.UTC(2026, 11, 1, 23)), 10, "refusals not counted");
    assert.equal(await f.ch.dailyTaskCounts.count("carol", Date.UTC(2026, 11, 2)), 0, "a new UTC day");
    await f.bus.close();
  });

  it("refuses past the stored-task cap, counting earlier days of the window from the task lists, without spending the day's quota", async () => {
    const f = await rpcFixture({ STORED_TASKS_PER_TENANT_STANDARD: "5", DAILY_TASK_QUOTA_STANDARD: "100" });
    await createdDaysAgo(f.bus, "alice", 2, 3);
    await createdDaysAgo(f.bus, "alice", STORED_WINDOW_PAST_DAYS + 1, 50);
    await f.client.createTask({ prompt: "a" }, f.alice.auth);
    await f.client.createTask({ prompt: "b" }, f.alice.auth);
    const err = await refusal(() => f.client.createTask({ prompt: "c" }, f.alice.auth));
    assert.equal(err.code, Code.ResourceExhausted);
    assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "STORED_TASKS_EXCEEDED");
    const [violation] = err.findDetails(QuotaFailureSchema)[0]?.violations ?? [];
    assert.equal(violation?.subject, "tenant:alice");
    assert.match(violation?.description ?? "", /^5 stored tasks /);
    assert.ok(Number(err.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds) > 0);
    assert.equal(await f.ch.dailyTaskCounts.count("alice", Date.now()), 2, "the refusal spent nothing");
    // The cap is per tenant: bob has stored nothing.
    await f.client.createTask({ prompt: "bob's" }, f.bob.auth);
    f.parts.stopping.abort();
    await f.bus.close();
  });

  it("names the daily quota when it is the smaller limit", async () => {
    const f = await rpcFixture({ STORED_TASKS_PER_TENANT_STANDARD: "5", DAILY_TASK_QUOTA_STANDARD: "1" });
    await f.client.createTask({ prompt: "a" }, f.alice.auth);
    const err = await refusal(() => f.client.createTask({ prompt: "b" }, f.alice.auth));
    assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "DAILY_QUOTA_EXCEEDED");
    f.parts.stopping.abort();
    await f.bus.close();
  });
});

/** Tasks of `tenantId` listed `days` UTC days ago, as a gateway then would have written them. */
async function createdDaysAgo(bus: MemoryBus, tenantId: string, days: number, n: number): Promise<void> {
  const then = Date.now() - days * DAY_MS;
  const tasks = channels(bus, { tasks: { now: () => then } }).tasks;
  for (let i = 0; i < n; i++)
    await tasks.create(
      create(TaskRecordSchema, { tenantId, task: { taskId: newTaskId(), status: TaskStatus.COMPLETED } }),
    );
}
