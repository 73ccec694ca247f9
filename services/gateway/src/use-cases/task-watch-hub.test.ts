import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { channels, createMemoryBus, type TaskStore } from "@t2v/common/channels";
import { QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { createQueueEstimateCache } from "../adapters/queue-estimate-cache.js";
import { applyWatchedEstimate } from "../adapters/queue-estimates.js";
import { createTaskWatchHub, type TaskFeed } from "./task-watch-hub.js";

const log = createLogger("test", "silent");

function record(taskId: string, status: TaskStatus, progress = 0): TaskRecord {
  return create(TaskRecordSchema, {
    tenantId: "acme",
    task: { taskId, status, progress, updateTime: timestampNow() },
  });
}

/** The store, counting the watches of the task records opened on it. */
function counted(tasks: TaskStore) {
  const opened = { n: 0 };
  return {
    opened,
    store: {
      get: (id: string) => tasks.get(id),
      changes(signal: AbortSignal, wanted: (taskId: string) => boolean) {
        opened.n++;
        return tasks.changes(signal, wanted);
      },
    },
  };
}

/** Reads a feed until its terminal state; the statuses it saw. */
async function readToEnd(feed: TaskFeed, signal: AbortSignal): Promise<TaskStatus[]> {
  const seen: TaskStatus[] = [];
  try {
    for (let s = await feed.next(signal); s; s = await feed.next(signal)) {
      seen.push(s.value.task.status);
      if (s.terminal) break;
    }
  } finally {
    feed.close();
  }
  return seen;
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(5);
  }
}

describe("createTaskWatchHub", () => {
  it("a feed keeps one abort listener on its reader's signal however many waits, and none once closed", async () => {
    const ch = channels(createMemoryBus());
    const taskId = newTaskId();
    await ch.tasks.create(record(taskId, TaskStatus.QUEUED));
    const hub = createTaskWatchHub({ tasks: ch.tasks, view: async (r) => r.task ?? assert.fail(), log });
    // A long-lived signal (the SSE path's stop): listeners left on it would pile up with every stream.
    const stop = new AbortController();
    const feed = hub.open(taskId);
    let stored = await ch.tasks.get(taskId);
    for (let i = 1; i <= 5; i++) {
      const next = feed.next(stop.signal);
      if (i > 1 && stored) stored = await ch.tasks.replace(record(taskId, TaskStatus.PROCESSING, i), stored.revision);
      assert.ok(await next, `state ${i} arrives`);
      assert.equal(getEventListeners(stop.signal, "abort").length, 1, `after wait ${i}`);
    }
    feed.close();
    assert.equal(getEventListeners(stop.signal, "abort").length, 0);
    assert.equal(hub.feeds(), 0);
  });

  it("serves 500 streams of one task from one store watch: each sees a state first and the terminal state last", async () => {
    const ch = channels(createMemoryBus());
    const taskId = newTaskId();
    await ch.tasks.create(record(taskId, TaskStatus.QUEUED));
    const { opened, store } = counted(ch.tasks);
    const hub = createTaskWatchHub({ tasks: store, view: async (r) => r.task ?? assert.fail(), log });
    const stop = new AbortController();
    const seen: TaskStatus[][] = [];
    const streams = Array.from({ length: 500 }, async (_, i) => {
      // Half open before the updates start, half while they are being written (the race the hub must win).
      if (i >= 250) await delay(i % 7);
      const feed = hub.open(taskId);
      const mine: TaskStatus[] = [];
      seen.push(mine);
      try {
        for (let s = await feed.next(stop.signal); s; s = await feed.next(stop.signal)) {
          mine.push(s.value.task.status);
          if (s.terminal) return;
        }
      } finally {
        feed.close();
      }
    });
    for (let step = 1; step <= 20; step++) {
      await ch.tasks.update(taskId, () => record(taskId, TaskStatus.PROCESSING, step / 20));
      await delay(1);
    }
    await ch.tasks.update(taskId, () => record(taskId, TaskStatus.COMPLETED, 1));
    await Promise.all(streams);
    assert.equal(opened.n, 1, "one watch for all the streams");
    assert.equal(seen.length, 500);
    for (const s of seen) assert.equal(s.at(-1), TaskStatus.COMPLETED, s.join(","));
    assert.equal(hub.watched(), 0, "no task is watched once its last stream is gone");
    assert.equal(hub.watching(), false, "the watch closes with its last stream");
    assert.equal(hub.feeds(), 0);
  });

  it("serves 200 tasks, two streams each, from one watch of the task records", async () => {
    const ch = channels(createMemoryBus());
    const ids = Array.from({ length: 200 }, () => newTaskId());
    for (const id of ids) await ch.tasks.create(record(id, TaskStatus.QUEUED));
    const unwatched = newTaskId();
    await ch.tasks.create(record(unwatched, TaskStatus.QUEUED));
    const { opened, store } = counted(ch.tasks);
    const viewed: string[] = [];
    const hub = createTaskWatchHub({
      tasks: store,
      view: async (r) => {
        viewed.push(r.task?.taskId ?? "");
        return r.task ?? assert.fail();
      },
      log,
    });
    const stop = new AbortController();
    const reading = ids.flatMap((id) => [readToEnd(hub.open(id), stop.signal), readToEnd(hub.open(id), stop.signal)]);
    assert.equal(hub.watched(), 200);
    for (const id of ids) await ch.tasks.update(id, () => record(id, TaskStatus.PROCESSING, 0.5));
    await ch.tasks.update(unwatched, () => record(unwatched, TaskStatus.PROCESSING, 0.5));
    for (const id of ids) await ch.tasks.update(id, () => record(id, TaskStatus.COMPLETED, 1));
    const seen = await Promise.all(reading);
    assert.equal(opened.n, 1, "one watch for 200 tasks");
    for (const s of seen) assert.equal(s.at(-1), TaskStatus.COMPLETED, s.join(","));
    assert.ok(!viewed.includes(unwatched), "a task nobody watches is not decoded into a view");
    assert.equal(hub.watching(), false);
  });

  it("a seeded feed reads nothing itself, and a change written after its opener's read still arrives", async () => {
    const ch = channels(createMemoryBus());
    const taskId = newTaskId();
    await ch.tasks.create(record(taskId, TaskStatus.QUEUED));
    let gets = 0;
    const store = {
      get: (id: string) => {
        gets++;
        return ch.tasks.get(id);
      },
      changes: (signal: AbortSignal, wanted: (taskId: string) => boolean) => ch.tasks.changes(signal, wanted),
    };
    const hub = createTaskWatchHub({ tasks: store, view: async (r) => r.task ?? assert.fail(), log });
    // The watch in place already (placing it reads every watched task once), for another task.
    const other = newTaskId();
    await ch.tasks.create(record(other, TaskStatus.QUEUED));
    const otherFeed = hub.open(other);
    await otherFeed.next(new AbortController().signal);
    await delay(20);
    gets = 0;
    const feed = hub.open(taskId, { seeded: true });
    const read = (await ch.tasks.get(taskId)) ?? assert.fail();
    // Written after the opener's read, before it seeds the feed.
    await ch.tasks.update(taskId, () => record(taskId, TaskStatus.COMPLETED, 1));
    feed.seed(read);
    const seen = await readToEnd(feed, new AbortController().signal);
    assert.equal(seen.at(-1), TaskStatus.COMPLETED, seen.join(","));
    assert.equal(gets, 0, "no read of its own");
    otherFeed.close();
  });

  it("reads the watched tasks again once a lost watch is back: a change written meanwhile is not missed", async () => {
    const ch = channels(createMemoryBus());
    const taskId = newTaskId();
    await ch.tasks.create(record(taskId, TaskStatus.QUEUED));
    // The first watch is lost after its first change; the second is placed only once the gate opens.
    let calls = 0;
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      openGate = r;
    });
    const store = {
      get: (id: string) => ch.tasks.get(id),
      async changes(signal: AbortSignal, wanted: (taskId: string) => boolean) {
        calls++;
        if (calls > 1) await gate;
        const inner = await ch.tasks.changes(signal, wanted);
        if (calls > 1) return inner;
        return (async function* () {
          for await (const c of inner) {
            yield c;
            throw new Error("connection lost");
          }
        })();
      },
    };
    const hub = createTaskWatchHub({ tasks: store, view: async (r) => r.task ?? assert.fail(), log, rewatchMs: 10 });
    const stop = new AbortController();
    const reading = readToEnd(hub.open(taskId), stop.signal);
    await delay(20);
    await ch.tasks.update(taskId, () => record(taskId, TaskStatus.PROCESSING, 0.5));
    await until(() => calls === 2, "the watch placed again");
    // Written while no watch is in place: only the read after the new watch can see it.
    await ch.tasks.update(taskId, () => record(taskId, TaskStatus.COMPLETED, 1));
    openGate();
    const seen = await reading;
    assert.equal(seen.at(-1), TaskStatus.COMPLETED, seen.join(","));
  });

  it("a stream that joins after the task ended still gets the terminal state", async () => {
    const ch = channels(createMemoryBus());
    const taskId = newTaskId();
    await ch.tasks.create(record(taskId, TaskStatus.FAILED));
    const hub = createTaskWatchHub({ tasks: ch.tasks, view: async (r) => r.task ?? assert.fail(), log });
    const feed = hub.open(taskId);
    const s = await feed.next(new AbortController().signal);
    assert.equal(s?.terminal, true);
    assert.equal(s?.value.task.status, TaskStatus.FAILED);
    feed.close();
  });

  it("registers a queued task once however many streams watch it, and the scheduler's pushes reach every stream", async () => {
    const ch = channels(createMemoryBus());
    const taskId = newTaskId();
    await ch.tasks.create(record(taskId, TaskStatus.QUEUED));
    // The scheduler's side: hears the registrations, pushes a new position every 50 ms.
    const registered: string[][] = [];
    let position = 10;
    const heard = ch.estimatePushes.onRegistration((part) => registered.push(part.taskIds));
    const pushPosition = (): void => {
      const ids = registered.at(-1) ?? [];
      ch.estimatePushes.push(
        "gw-test",
        ids.map((id) => create(QueueEstimateSchema, { taskId: id, queued: true, position })),
      );
    };
    const first = ch.estimatePushes.onRegistration(() => setTimeout(pushPosition, 5));
    const moving = setInterval(() => {
      if (registered.at(-1)?.length) {
        position--;
        pushPosition();
      }
    }, 50);
    let hub: ReturnType<typeof createTaskWatchHub> | undefined;
    const cache = createQueueEstimateCache({
      pushes: ch.estimatePushes,
      gatewayId: "gw-test",
      debounceMs: 10,
      timeoutMs: 2_000,
      onChange: (id, e) => hub?.estimateChanged(id, (t) => applyWatchedEstimate(t, e)),
      log,
    });
    hub = createTaskWatchHub({ tasks: ch.tasks, view: async (r) => r.task ?? assert.fail(), estimates: cache, log });
    const stop = new AbortController();
    const positions: number[][] = [];
    const feeds = Array.from({ length: 100 }, () => hub.open(taskId));
    const reading = feeds.map(async (feed) => {
      const mine: number[] = [];
      positions.push(mine);
      for (let s = await feed.next(stop.signal); s; s = await feed.next(stop.signal))
        mine.push(s.value.task.queuePosition);
    });
    await until(() => positions.length === 100 && positions.every((p) => p.length >= 3), "three positions per stream");
    stop.abort();
    await Promise.all(reading);
    clearInterval(moving);
    first.unsubscribe();
    for (const f of feeds) f.close();
    assert.deepEqual(registered[0], [taskId], "one registration for 100 streams: the task once");
    for (const p of positions) {
      assert.equal(p[0], 10, "the first state already has its estimate");
      for (let i = 1; i < p.length; i++) assert.ok((p[i] ?? 0) < (p[i - 1] ?? 0), "later states follow the moves");
    }
    assert.equal(cache.tracked(), 0, "the last stream gone, the task is no longer watched");
    await until(() => registered.at(-1)?.length === 0, "the emptied set registered");
    heard.unsubscribe();
    cache.stop();
  });
});
