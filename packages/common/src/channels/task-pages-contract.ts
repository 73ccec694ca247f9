import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { newTaskId } from "../task/ids.js";
import type { Bus, KvBucket } from "./bus/bus.js";
import { record } from "./channels-contract-support.js";
import { DAY_MS } from "./durations.js";
import { TASK_LIST_RETENTION_DAYS } from "./task-lists.js";
import { type TaskPageQuery, type TaskStore, taskStore } from "./task-store.js";

/** A bus whose KV gets are counted: what a page costs. */
function countingBus(bus: Bus): { bus: Bus; gets: () => number } {
  let gets = 0;
  const counted = (kv: KvBucket): KvBucket => ({
    ...kv,
    get: (key) => {
      gets++;
      return kv.get(key);
    },
  });
  return { bus: { ...bus, kv: async (spec) => counted(await bus.kv(spec)) }, gets: () => gets };
}

/** Every page from the first, as task ids, with the number of calls it took. */
async function allPages(tasks: TaskStore, q: Omit<TaskPageQuery, "from">) {
  const ids: string[] = [];
  let from: TaskPageQuery["from"] = null;
  let calls = 0;
  do {
    const page = await tasks.page({ ...q, from });
    calls++;
    ids.push(...page.tasks.map((t) => t.record.task?.taskId ?? ""));
    from = page.next;
    assert.ok(calls < 1_000, "the listing ends");
  } while (from !== null);
  return { ids, calls };
}

/** The task store's page reads (ListTasks), against any bus; runs inside the channels contract. */
/** `racingCas` marks the cases where writers race on one key (a todo on a server with the clustered CAS defect). */
export function describeTaskPages(bus: () => Bus, racingCas: { todo?: string } = {}): void {
  describe("task store pages", () => {
    const q = { status: TaskStatus.UNSPECIFIED, limit: 2, maxSlots: 100 };

    it("lists one tenant's tasks newest first, page by page, and no other tenant's", async () => {
      const tasks = taskStore(bus());
      const a = [newTaskId(), newTaskId(), newTaskId(), newTaskId(), newTaskId()];
      const b = newTaskId();
      for (const id of a) await tasks.create(record(id, { tenantId: "a" }));
      await tasks.create(record(b, { tenantId: "b" }));
      const first = await tasks.page({ ...q, tenantId: "a", from: null });
      assert.deepEqual(
        first.tasks.map((t) => t.record.task?.taskId),
        [a[4], a[3]],
      );
      assert.ok(first.next);
      assert.deepEqual((await allPages(tasks, { ...q, tenantId: "a" })).ids, [...a].reverse());
      assert.deepEqual((await allPages(tasks, { ...q, tenantId: "b" })).ids, [b]);
      assert.deepEqual((await allPages(tasks, { ...q, tenantId: "c" })).ids, []);
      assert.deepEqual((await tasks.ids()).sort(), [...a, b].sort());
    });

    it("takes a burst of concurrent creates from two writers for one tenant, each listed once", racingCas, async () => {
      const writers = [taskStore(bus()), taskStore(bus())];
      const ids = Array.from({ length: 60 }, () => newTaskId());
      await Promise.all(ids.map((id, i) => writers[i % 2]?.create(record(id, { tenantId: "burst" }))));
      const listed = await allPages(writers[0] as TaskStore, { ...q, tenantId: "burst", limit: 25 });
      assert.deepEqual([...listed.ids].sort(), [...ids].sort());
    });

    it("lists by status from every writer (create, update, replace); a task that left a status is skipped, one that came back is listed once", async () => {
      const tasks = taskStore(bus());
      const [x, y, z] = [newTaskId(), newTaskId(), newTaskId()];
      for (const id of [x, y, z]) await tasks.create(record(id, { tenantId: "t" }));
      const withStatus = (status: TaskStatus) => (r: ReturnType<typeof record>) => ({
        ...r,
        task: r.task ? { ...r.task, status } : undefined,
      });
      await tasks.update(x, withStatus(TaskStatus.PROCESSING));
      const stored = await tasks.get(y);
      assert.ok(stored);
      await tasks.replace(withStatus(TaskStatus.COMPLETED)(stored.record), stored.revision, stored.record);
      // x goes back to the queue and out again: still one entry per list.
      await tasks.update(x, withStatus(TaskStatus.QUEUED));
      await tasks.update(x, withStatus(TaskStatus.PROCESSING));
      const list = async (status: TaskStatus) => (await allPages(tasks, { ...q, tenantId: "t", status })).ids;
      assert.deepEqual(await list(TaskStatus.QUEUED), [z]);
      assert.deepEqual(await list(TaskStatus.PROCESSING), [x]);
      assert.deepEqual(await list(TaskStatus.COMPLETED), [y]);
      assert.deepEqual(await list(TaskStatus.FAILED), []);
      assert.deepEqual(await list(TaskStatus.UNSPECIFIED), [z, y, x]);
    });

    it("costs O(page) gets, not O(tasks of the tenant), and stops at maxSlots with a cursor", async () => {
      const counting = countingBus(bus());
      const tasks = taskStore(counting.bus);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const id = newTaskId();
        ids.push(id);
        await tasks.create(record(id, { tenantId: "big" }));
      }
      for (const id of ids.slice(1))
        await tasks.update(id, (r) => ({
          ...r,
          task: r.task ? { ...r.task, status: TaskStatus.COMPLETED } : undefined,
        }));
      let before = counting.gets();
      const page = await tasks.page({
        tenantId: "big",
        status: TaskStatus.UNSPECIFIED,
        from: null,
        limit: 5,
        maxSlots: 50,
      });
      assert.equal(page.tasks.length, 5);
      // One day top, five slots, five records.
      assert.ok(counting.gets() - before <= 11, `${counting.gets() - before} gets for a page of 5`);
      // QUEUED holds 59 tasks that moved on: each call reads at most maxSlots of them.
      before = counting.gets();
      const short = await tasks.page({ tenantId: "big", status: TaskStatus.QUEUED, from: null, limit: 5, maxSlots: 8 });
      assert.deepEqual(short.tasks, []);
      assert.ok(short.next, "a short page says where to go on");
      assert.ok(counting.gets() - before <= 1 + 8 * 2, `${counting.gets() - before} gets for 8 slots`);
      const queued = await allPages(tasks, { tenantId: "big", status: TaskStatus.QUEUED, limit: 5, maxSlots: 8 });
      assert.deepEqual(queued.ids, [ids[0]]);
      assert.ok(queued.calls >= 8);
    });

    it("walks back over UTC days, an empty day costing one get, and ends at the retention", async () => {
      let now = Date.UTC(2026, 0, 31, 23, 0);
      const tasks = taskStore(bus(), { now: () => now });
      const old = newTaskId();
      await tasks.create(record(old, { tenantId: "d" }));
      now += (TASK_LIST_RETENTION_DAYS + 1) * DAY_MS;
      const twoDaysAgo = newTaskId();
      await tasks.create(record(twoDaysAgo, { tenantId: "d" }));
      now += 2 * DAY_MS;
      const today = newTaskId();
      await tasks.create(record(today, { tenantId: "d" }));
      // The record of `old` outlives its list entry here only because the test moved the clock.
      const listed = await allPages(tasks, { tenantId: "d", status: TaskStatus.UNSPECIFIED, limit: 10, maxSlots: 100 });
      assert.deepEqual(listed.ids, [today, twoDaysAgo]);
      assert.equal(listed.calls, 1);
    });
  });
}
