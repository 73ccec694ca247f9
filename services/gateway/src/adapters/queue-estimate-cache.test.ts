import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import {
  channels,
  createMemoryBus,
  ESTIMATE_WATCH_SUBJECT,
  MAX_ESTIMATE_IDS,
  type WatchPart,
} from "@t2v/common/channels";
import { type QueueEstimate, QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { createQueueEstimateCache } from "./queue-estimate-cache.js";

const log = createLogger("test", "silent");
const queued = (taskId: string, params = false): Task =>
  create(TaskSchema, {
    taskId,
    status: TaskStatus.QUEUED,
    tier: "standard",
    ...(params ? { params: { width: 64, height: 64, numFrames: 8 } } : {}),
  });
const at = (taskId: string, position: number, isQueued = true): QueueEstimate =>
  create(QueueEstimateSchema, { taskId, position, queued: isQueued });

/** The cache on a memory bus, and the scheduler's side of the channel: the parts it hears. */
function setup(opts: { debounceMs?: number; heartbeatMs?: number; timeoutMs?: number } = {}) {
  const bus = createMemoryBus();
  const ch = channels(bus);
  const parts: WatchPart[] = [];
  ch.estimatePushes.onRegistration((p) => parts.push(p));
  const changes: [string, number, boolean][] = [];
  const cache = createQueueEstimateCache({
    pushes: ch.estimatePushes,
    gatewayId: "gw-a",
    onChange: (id, e) => changes.push([id, e.position, e.queued]),
    log,
    debounceMs: opts.debounceMs ?? 10,
    heartbeatMs: opts.heartbeatMs ?? 60_000,
    timeoutMs: opts.timeoutMs ?? 1_000,
  });
  const push = (estimates: QueueEstimate[]) => ch.estimatePushes.push("gw-a", estimates);
  return { bus, ch, parts, changes, cache, push };
}

describe("queue estimate cache: registers what the streams watch, hears the scheduler's pushes", () => {
  it("registers a burst of tracked tasks once, with the sizes it lacks, and the emptied set once", async () => {
    const { parts, cache } = setup();
    cache.track(queued("t1", true));
    cache.track(queued("t2"));
    cache.track(queued("t1", true));
    await delay(50);
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0]?.taskIds, ["t1", "t2"]);
    assert.deepEqual(
      parts[0]?.sizes.map((s) => s.taskId),
      ["t1"],
      "only a task with no accelerator-seconds estimate yet",
    );
    cache.untrack("t1");
    cache.untrack("t2");
    await delay(50);
    assert.equal(parts.length, 2);
    assert.deepEqual(parts[1]?.taskIds, []);
    assert.ok((parts[1]?.generation ?? 0n) > (parts[0]?.generation ?? 0n), "a new generation each time");
    cache.stop();
  });

  it("fill waits for the first push, and goes on without one after the timeout", async () => {
    const { parts, cache, push, changes } = setup({ timeoutMs: 200 });
    cache.track(queued("t1"));
    const task = queued("t1");
    const filling = cache.fill(task);
    await delay(30);
    assert.equal(parts.length, 1);
    push([create(QueueEstimateSchema, { ...at("t1", 4), estimatedGpuSeconds: 12 })]);
    await filling;
    assert.equal(task.queuePosition, 4);
    assert.equal(task.estimatedGpuSeconds, 12);
    assert.deepEqual(changes, [], "the fill took it: no separate update");

    cache.track(queued("t2"));
    const lonely = queued("t2");
    const started = Date.now();
    await cache.fill(lonely);
    const waited = Date.now() - started;
    assert.ok(waited >= 190 && waited < 1_000, `waited ${waited} ms`);
    assert.equal(lonely.estimatedStartTime, undefined);
    // A push after the fill gave up is an update.
    push([at("t2", 7)]);
    await delay(10);
    assert.deepEqual(changes, [["t2", 7, true]]);
    cache.stop();
  });

  it("tells moves, not repeats, and a task no longer queued; ignores tasks it does not track and other gateways' pushes", async () => {
    const { ch, cache, push, changes } = setup();
    cache.track(queued("t1"));
    push([at("t1", 3)]);
    await delay(10);
    push([at("t1", 3), at("untracked", 1)]);
    ch.estimatePushes.push("gw-other", [at("t1", 0)]);
    push([at("t1", 2)]);
    push([at("t1", 2, false)]);
    await delay(10);
    assert.deepEqual(changes, [
      ["t1", 3, true],
      ["t1", 2, true],
      ["t1", 2, false],
    ]);
    cache.stop();
  });

  it("registers again every heartbeat while it watches (a restarted scheduler hears it), silent once stopped", async () => {
    const { parts, cache } = setup({ heartbeatMs: 60 });
    cache.track(queued("t1"));
    await delay(200);
    assert.ok(parts.length >= 3, `${parts.length} registrations`);
    assert.ok(parts.every((p) => p.taskIds.includes("t1")));
    cache.stop();
    const n = parts.length;
    await delay(150);
    assert.equal(parts.length, n);
  });

  it("measured: messages the gateway sends for 1,000 watched queued tasks, pushed against polled", async () => {
    const { bus, cache } = setup({ heartbeatMs: 10_000 });
    let sent = 0;
    let bytes = 0;
    const counted = bus.subscribe(ESTIMATE_WATCH_SUBJECT, (data) => {
      sent++;
      bytes += data.length;
    });
    // Task ids as the gateway makes them; none has its accelerator seconds yet (the largest message).
    for (let i = 0; i < 1_000; i++) cache.track(queued(newTaskId(), true));
    await delay(50);
    counted.unsubscribe();
    cache.stop();
    // Polling asked for every tracked task every 2 s, MAX_ESTIMATE_IDS per request: 10 requests (and
    // 10 replies) per 2 s. Pushed: one registration for the set (the ids fit one part), then one per
    // change (debounced) and one per 10 s heartbeat.
    const polledPerSecond = Math.ceil(1_000 / MAX_ESTIMATE_IDS) / 2;
    const pushedPerSecond = sent / 10;
    assert.equal(sent, 1);
    assert.ok(bytes < 256 * 1024, `${bytes} bytes`);
    assert.equal(polledPerSecond, 5);
    assert.equal(pushedPerSecond, 0.1);
    process.stdout.write(
      `# 1,000 watched tasks: polling sent ${polledPerSecond} requests/s; registering sends ${pushedPerSecond} messages/s while the set holds still (${bytes} bytes each)\n`,
    );
  });
});
