import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { channels, createMemoryBus } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId } from "@t2v/common/task";
import { silentLog } from "../../testing/gateway-fixture.js";
import type { WebhookVerdict } from "../../use-cases/deliver-webhook.js";
import { startWebhookDispatcher } from "./webhook-dispatcher.js";

function change(tenantId: string, webhookUrl = `https://${tenantId}.example.com/hook`): TaskRecord {
  return create(TaskRecordSchema, {
    task: { taskId: newTaskId(), status: TaskStatus.COMPLETED, attempt: 1, webhookUrl },
    tenantId,
  });
}

async function until(what: string, ok: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

const releases: Array<() => void> = [];

/** A receiver per tenant: "tarpit" deliveries hang until released; others are done at once. */
function receivers(tarpits: Set<string>) {
  const delivered: { tenantId: string; taskId: string; attempt: number }[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const hanging: Array<() => void> = [];
  const started: string[] = [];
  const deliver = async (r: TaskRecord, attempt: number): Promise<WebhookVerdict> => {
    const t = r.tenantId;
    started.push(t);
    inFlight.set(t, (inFlight.get(t) ?? 0) + 1);
    maxInFlight.set(t, Math.max(maxInFlight.get(t) ?? 0, inFlight.get(t) ?? 0));
    if (tarpits.has(t)) await new Promise<void>((resolve) => hanging.push(resolve));
    inFlight.set(t, (inFlight.get(t) ?? 1) - 1);
    delivered.push({ tenantId: t, taskId: r.task?.taskId ?? "", attempt });
    return { kind: "done" };
  };
  const release = () => {
    tarpits.clear();
    for (const r of hanging.splice(0)) r();
  };
  releases.push(release);
  return { deliver, delivered, maxInFlight, hanging, started, release };
}

describe("webhook dispatcher (memory bus)", () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    // A failed test may leave deliveries hanging; stop() waits for those in flight.
    for (const r of releases.splice(0)) r();
    for (const s of stops.splice(0)) await s();
  });

  function start(
    deliver: ReturnType<typeof receivers>["deliver"],
    o: { perTenant: number; queued: number; concurrency?: number },
  ) {
    const bus = createMemoryBus();
    const ch = channels(bus);
    const d = startWebhookDispatcher({
      inbox: ch.taskChanges.inbox,
      deliver,
      log: silentLog,
      retryBaseMs: 50,
      concurrency: o.concurrency ?? 8,
      perTenant: o.perTenant,
      queuedPerTenant: o.queued,
      deferMs: 100,
    });
    stops.push(async () => {
      await d.stop();
      await bus.close();
    });
    return { ch, dispatcher: d };
  }

  it("delivers another tenant's webhook while one tenant's endpoint holds every one of its deliveries", async () => {
    const r = receivers(new Set(["tarpit"]));
    const { ch } = start(r.deliver, { perTenant: 2, queued: 4 });
    for (let i = 0; i < 30; i++) await ch.taskChanges.publish(change("tarpit"));
    await until("the tarpit tenant's lane to fill", () => r.hanging.length === 2);
    const fast = change("fast");
    await ch.taskChanges.publish(fast);
    await until("the other tenant's delivery", () => r.delivered.some((x) => x.taskId === fast.task?.taskId));
    assert.equal(r.hanging.length, 2, "the tarpit tenant still holds only its own two slots");
    assert.equal(r.maxInFlight.get("tarpit"), 2);
    r.release();
    await until(
      "every tarpit change, once its endpoint answers",
      () => r.delivered.filter((x) => x.tenantId === "tarpit").length === 30,
    );
    assert.equal(new Set(r.delivered.map((x) => x.taskId)).size, 31);
    // Changes that found the lane full went back to the stream: their delivery count says so.
    assert.ok(r.delivered.some((x) => x.attempt > 1));
    assert.ok((r.maxInFlight.get("tarpit") ?? 0) <= 2);
  });

  it("gives each freed slot to the next tenant in turn, not to whoever came first", async () => {
    const r = receivers(new Set(["a", "b"]));
    const { ch, dispatcher } = start(r.deliver, { perTenant: 2, queued: 2, concurrency: 2 });
    for (let i = 0; i < 4; i++) await ch.taskChanges.publish(change("a"));
    await until("a's two slots in use and two changes waiting", () => dispatcher.load().waiting === 2);
    for (let i = 0; i < 2; i++) await ch.taskChanges.publish(change("b"));
    await until("b's changes waiting too", () => dispatcher.load().waiting === 4);
    for (let i = 0; i < 4; i++) {
      r.hanging.shift()?.();
      await until("the freed slot taken", () => r.started.length === 3 + i);
    }
    assert.deepEqual(r.started, ["a", "a", "a", "b", "a", "b"]);
    r.release();
    await until("all 6", () => r.delivered.length === 6);
  });

  it("acknowledges changes of tasks without a webhook without asking anyone", async () => {
    const r = receivers(new Set());
    const { ch } = start(r.deliver, { perTenant: 1, queued: 0 });
    for (let i = 0; i < 5; i++) await ch.taskChanges.publish(change("quiet", ""));
    const loud = change("loud");
    await ch.taskChanges.publish(loud);
    await until("the one with a webhook", () => r.delivered.length === 1);
    assert.equal(r.delivered[0]?.taskId, loud.task?.taskId);
    assert.equal(r.delivered[0]?.attempt, 1);
  });
});
