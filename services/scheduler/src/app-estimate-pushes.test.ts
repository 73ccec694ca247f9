import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type Bus, ESTIMATE_PUSH_SUBJECT_PREFIX, type Unsubscribe } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { createSchedulerHarness, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

/** A gateway as the scheduler sees it: it registers what it watches and keeps the latest push per task. */
function gateway(h: SchedulerHarness, gatewayId = "gw-1") {
  const latest = new Map<string, QueueEstimate>();
  let generation = 0n;
  const sub: Unsubscribe = h.ch.estimatePushes.onPush(gatewayId, (estimates) => {
    for (const e of estimates) latest.set(e.taskId, e);
  });
  return {
    latest,
    watch: (taskIds: string[]) => h.ch.estimatePushes.register(gatewayId, ++generation, taskIds, []),
    stop: () => sub.unsubscribe(),
  };
}

/** The bus a replica uses, counting what it pushes to gateways. */
function countingPushes(bus: Bus): { bus: Bus; pushed: () => number } {
  let n = 0;
  return {
    bus: {
      ...bus,
      broadcast(subject, data) {
        if (subject.startsWith(`${ESTIMATE_PUSH_SUBJECT_PREFIX}.`)) n++;
        bus.broadcast(subject, data);
      },
    },
    pushed: () => n,
  };
}

const position = (g: ReturnType<typeof gateway>, id: string) => async () => g.latest.get(id);

describe("scheduler app: queue estimates pushed to the gateways", () => {
  let h: SchedulerHarness;
  afterEach(() => h.close());

  it("pushes a watched task's position at once, its moves, and once that it is no longer queued", async () => {
    h = await createSchedulerHarness({ QUEUE_ESTIMATE_INTERVAL_MS: "100" });
    const leader = await h.startScheduler();
    await waitUntil(async () => leader.isLeader(), Boolean, "leads");
    const a = await h.submit();
    const b = await h.submit();
    const g = gateway(h);
    const registeredAt = Date.now();
    g.watch([a, b]);
    const first = await waitUntil(position(g, b), (e) => e?.queued === true, "b's first push");
    assert.equal(first?.position, 1);
    assert.equal(g.latest.get(a)?.position, 0);
    // Pushed on registration, not on the next round (the test's interval is 100 ms; the debounce 5).
    const firstMs = Date.now() - registeredAt;
    assert.ok(firstMs < 1_000, `${firstMs} ms to the first push`);
    process.stdout.write(`# registration to first push: ${firstMs} ms (memory bus, polled every 20 ms)\n`);

    // A worker comes: a is dispatched (not queued any more), b moves up.
    const w = await h.worker(["standard"]);
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, a);
    await waitUntil(position(g, a), (e) => e?.queued === false, "a no longer queued");
    const moved = await waitUntil(position(g, b), (e) => e?.position === 0, "b moved up");
    assert.equal(moved?.queued, true);
    // Nothing moves any more: later rounds push nothing for a (pushed once) and b (unchanged).
    g.latest.clear();
    await delay(400);
    assert.equal(g.latest.get(a), undefined, "a's not-queued push is not repeated");
    g.stop();
  });

  it("pushes newly registered tasks at once, not at the next round", async () => {
    h = await createSchedulerHarness({ QUEUE_ESTIMATE_INTERVAL_MS: "60000" });
    const leader = await h.startScheduler();
    await waitUntil(async () => leader.isLeader(), Boolean, "leads");
    const a = await h.submit();
    const g = gateway(h);
    // The term's first round is over (nothing registered then); the next is a minute away.
    await delay(100);
    const registeredAt = Date.now();
    g.watch([a]);
    await waitUntil(position(g, a), (e) => e?.queued === true, "the first push", 5_000);
    assert.ok(Date.now() - registeredAt < 5_000);
    g.stop();
  });

  it("a standby pushes nothing; after a leader change the new leader pushes without a new registration", async () => {
    h = await createSchedulerHarness({ QUEUE_ESTIMATE_INTERVAL_MS: "100" });
    const first = await h.startScheduler({ replicaId: "first" });
    await waitUntil(async () => first.isLeader(), Boolean, "first leads");
    const standby = countingPushes(h.bus);
    const second = await h.startScheduler({ replicaId: "second", bus: standby.bus });
    const ahead = await h.submit();
    const a = await h.submit();
    const g = gateway(h);
    g.watch([a]);
    await waitUntil(position(g, a), (e) => e?.position === 1, "first push");
    // A move while the first leads: its push, none from the standby.
    await h.cancel(ahead);
    await waitUntil(position(g, a), (e) => e?.position === 0, "a moved up");
    await delay(300);
    assert.equal(second.isLeader(), false);
    assert.equal(standby.pushed(), 0, "the standby pushed");

    await first.stop();
    g.latest.clear();
    await waitUntil(async () => second.isLeader(), Boolean, "second leads", 5_000);
    // The gateway registered once, to both replicas; the new term pushes what it holds at its start.
    const again = await waitUntil(position(g, a), (e) => e !== undefined, "the new leader's push", 5_000);
    assert.equal(again?.queued, true);
    assert.equal(again?.position, 0);
    assert.ok(standby.pushed() > 0);
    g.stop();
  });
});
