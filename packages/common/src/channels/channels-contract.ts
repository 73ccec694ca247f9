import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { context } from "@opentelemetry/api";
import { CancelRequestedSchema, GenerateJobSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import { QueueEstimateSchema } from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import { ResultState, TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { newTaskId } from "../task/ids.js";
import { PLACES_STALE_MS } from "./admission-places.js";
import { attemptClaims } from "./attempt-claims.js";
import type { ConsumerSpec, StreamSpec } from "./bus/bus.js";
import { CANCEL_SUBJECT } from "./cancellations.js";
import { channels } from "./channels.js";
import {
  collect,
  eventually,
  installTracePropagation,
  record,
  SAMPLE_SPAN,
  sampleContext,
  streamOf,
  type TestBus,
  traceIdOf,
} from "./channels-contract-support.js";
import { type Inbox, typedInbox } from "./delivery.js";
import { leaderLease } from "./leader-lease.js";
import { openMediaStores } from "./media-stores.js";
import { MAX_ESTIMATE_IDS } from "./queue-estimates.js";
import { resultCache } from "./result-cache.js";
import { expiryHour, resultExpiry } from "./result-expiry.js";
import { TASK_CONTROL_SUBJECT, type TaskControlMessage } from "./task-controls.js";
import { describeTaskPages } from "./task-pages-contract.js";

export type { TestBus } from "./channels-contract-support.js";

/** A stream with a short ack wait, for the timing behaviour the channels' 30-60 s specs would make slow. */
function shortSpec(name: string, ackWaitMs: number, maxDeliver = -1): ConsumerSpec {
  const stream: StreamSpec = {
    name: `TEST_${name.toUpperCase()}`,
    subjects: [`test.${name}.>`],
    retention: "workqueue",
    maxAgeMs: 60_000,
    duplicateWindowMs: 60_000,
  };
  return { stream, durable: `test-${name}`, filter: `test.${name}.>`, ackWaitMs, maxDeliver };
}

/**
 * The behaviour every Bus implementation must give the channels, through the
 * `Channels` API (and the Bus itself for ack-wait timing). `makeBus` gives a
 * bus with nothing in it, for each test.
 */
export function describeChannelsContract(
  name: string,
  makeBus: () => Promise<TestBus>,
  opts: {
    quietMs?: number;
    timeScale?: number;
    /** A server known to let two concurrent compare-and-swaps both win: that case runs, reported as a todo with this reason. */
    concurrentCasDefect?: string;
  } = {},
): void {
  /** How long an inbox is asked for a message that must not come (a NATS pull lasts at least a second). */
  const NOTHING_MS = opts.quietMs ?? 1_000;
  /** The timing tests' durations, scaled: NATS needs whole seconds, in memory a fraction does. */
  const T = (ms: number): number => Math.round(ms * (opts.timeScale ?? 1));
  describe(`channels contract: ${name}`, () => {
    let tb: TestBus;
    beforeEach(async () => {
      installTracePropagation();
      tb = await makeBus();
    });
    afterEach(async () => {
      await tb.close();
    });
    const ch = () => channels(tb.bus);

    describe("submissions", () => {
      it("dedupe by task id within the window and arrive with trace context and task id", async () => {
        const c = ch();
        const taskId = newTaskId();
        await context.with(sampleContext(), async () => {
          await c.submissions.submit({ taskId, tenantId: "acme", pool: "vip" });
          await c.submissions.submit({ taskId, tenantId: "acme", pool: "vip" });
        });
        const inbox = await c.submissions.inbox();
        const d = await inbox.next(NOTHING_MS);
        assert.ok(d);
        assert.equal(d.message.taskId, taskId);
        assert.equal(d.message.pool, "vip");
        assert.equal(d.message.attempt, 1);
        assert.equal(d.taskId, taskId);
        assert.equal(d.subject, "t2v.submit.vip");
        assert.equal(d.deliveryCount, 1);
        assert.equal(traceIdOf(d.traceContext), SAMPLE_SPAN.traceId);
        d.ack();
        assert.equal(await inbox.next(NOTHING_MS), null);
      });
    });

    describe("generate jobs", () => {
      it("go only to their group's inbox; backlog counts waiting and unacked", async () => {
        const c = ch();
        const a = await c.generateJobs.inbox("a");
        const b = await c.generateJobs.inbox("b");
        assert.equal(await c.generateJobs.backlog("nobody"), null);
        for (const id of [newTaskId(), newTaskId()]) {
          await c.generateJobs.publish(create(GenerateJobSchema, { taskId: id, attempt: 1 }), "a");
        }
        const onlyB = newTaskId();
        await c.generateJobs.publish(create(GenerateJobSchema, { taskId: onlyB, attempt: 1 }), "b");
        assert.equal(await c.generateJobs.backlog("a"), 2);
        const held = await a.next(NOTHING_MS);
        assert.ok(held);
        // One held (unacked), one waiting.
        assert.equal(await c.generateJobs.backlog("a"), 2);
        held.ack();
        await eventuallyAsync(async () => (await c.generateJobs.backlog("a")) === 1);
        const fromB = await b.next(NOTHING_MS);
        assert.equal(fromB?.message.taskId, onlyB);
        fromB?.ack();
        assert.equal(await b.next(NOTHING_MS), null);
      });

      it("drop a republish of the same attempt, not a new attempt", async () => {
        const c = ch();
        const taskId = newTaskId();
        const job = (attempt: number) => create(GenerateJobSchema, { taskId, attempt });
        await c.generateJobs.publish(job(1), "g");
        await c.generateJobs.publish(job(1), "g");
        await c.generateJobs.publish(job(2), "g");
        const inbox = await c.generateJobs.inbox("g");
        const seen: number[] = [];
        for (let d = await inbox.next(NOTHING_MS); d; d = await inbox.next(NOTHING_MS)) {
          seen.push(d.message.attempt);
          d.ack();
        }
        assert.deepEqual(seen, [1, 2]);
      });

      it("nak with a delay redelivers later, with deliveryCount 2", async () => {
        const c = ch();
        const taskId = newTaskId();
        await c.generateJobs.publish(create(GenerateJobSchema, { taskId, attempt: 1 }), "g");
        const inbox = await c.generateJobs.inbox("g");
        const first = await inbox.next(NOTHING_MS);
        assert.equal(first?.deliveryCount, 1);
        const nakedAt = Date.now();
        first?.nak(T(1_500));
        const again = await inbox.next(T(5_000));
        assert.ok(again);
        assert.ok(Date.now() - nakedAt >= T(1_200), "redelivered before the delay");
        assert.equal(again.message.taskId, taskId);
        assert.equal(again.deliveryCount, 2);
        again.ack();
      });

      it("term never comes back", async () => {
        const c = ch();
        await c.generateJobs.publish(create(GenerateJobSchema, { taskId: newTaskId(), attempt: 1 }), "g");
        const inbox = await c.generateJobs.inbox("g");
        (await inbox.next(NOTHING_MS))?.term("bad job");
        assert.equal(await inbox.next(NOTHING_MS), null);
        assert.equal(await c.generateJobs.backlog("g"), 0);
      });
    });

    describe("ack wait (a test-only short consumer)", () => {
      it("an unacked delivery comes back after the ack wait", async () => {
        const spec = shortSpec("ackwait", T(1_000));
        await tb.bus.publish(spec.stream, "test.ackwait.1", new Uint8Array([1]), { msgId: "m1" });
        const inbox = await tb.bus.inbox(spec);
        const first = await inbox.next(NOTHING_MS);
        assert.equal(first?.deliveryCount, 1);
        const again = await inbox.next(T(4_000));
        assert.equal(again?.deliveryCount, 2);
        again?.ack();
        assert.equal(await inbox.next(T(2_000)), null);
      });

      it("working() restarts the ack wait once", async () => {
        const spec = shortSpec("working", T(1_500));
        await tb.bus.publish(spec.stream, "test.working.1", new Uint8Array([1]), {});
        const inbox = await tb.bus.inbox(spec);
        const d = await inbox.next(NOTHING_MS);
        assert.ok(d);
        await delay(T(900));
        d.working();
        // 1.9 s after delivery, past the first ack wait: still ours.
        assert.equal(await inbox.next(NOTHING_MS), null);
        const again = await inbox.next(T(4_000));
        assert.equal(again?.deliveryCount, 2);
        again?.ack();
      });

      it("keepAlive() keeps the message until stopped", async () => {
        const spec = shortSpec("keepalive", T(1_200));
        await tb.bus.publish(spec.stream, "test.keepalive.1", new Uint8Array(), {});
        const inbox = typedInbox(await tb.bus.inbox(spec), spec, CancelRequestedSchema);
        const d = await inbox.next(NOTHING_MS);
        assert.ok(d);
        const stop = d.keepAlive();
        try {
          assert.equal(await inbox.next(T(3_000)), null);
        } finally {
          stop();
        }
        const again = await inbox.next(T(5_000));
        assert.equal(again?.deliveryCount, 2);
        again?.ack();
      });

      it("maxDeliver is honoured", async () => {
        const spec = shortSpec("maxdeliver", 30_000, 2);
        await tb.bus.publish(spec.stream, "test.maxdeliver.1", new Uint8Array([1]), {});
        const inbox = await tb.bus.inbox(spec);
        const counts: number[] = [];
        for (let d = await inbox.next(NOTHING_MS); d; d = await inbox.next(NOTHING_MS)) {
          counts.push(d.deliveryCount);
          d.nak();
        }
        assert.deepEqual(counts, [1, 2]);
        assert.equal(await tb.bus.backlog(spec), 0);
      });

      it("a message that cannot be decoded is dropped", async () => {
        const spec = shortSpec("garbage", 30_000);
        await tb.bus.publish(spec.stream, "test.garbage.1", new Uint8Array([0x0a, 0x05, 0x61]), {});
        const inbox = typedInbox(await tb.bus.inbox(spec), spec, CancelRequestedSchema);
        assert.equal(await inbox.next(NOTHING_MS), null);
        assert.equal(await inbox.next(NOTHING_MS), null);
      });
    });

    describe("key-value buckets (the Bus)", () => {
      it("compare-and-swap on create, update and delete; keys by filter", async () => {
        const kv = await tb.bus.kv({ name: "test_kv", ttlMs: 0, history: 1 });
        const v = (n: number) => new Uint8Array([n]);
        const r1 = await kv.create("a.x", v(1));
        assert.ok(r1 !== null);
        assert.equal(await kv.create("a.x", v(2)), null);
        const r2 = await kv.update("a.x", v(2), r1);
        assert.ok(r2 !== null && r2 > r1);
        assert.equal(await kv.update("a.x", v(3), r1), null);
        await kv.put("a.y", v(4));
        await kv.put("b.x", v(5));
        assert.deepEqual((await kv.keys("a.>")).sort(), ["a.x", "a.y"]);
        assert.deepEqual((await kv.keys()).sort(), ["a.x", "a.y", "b.x"]);
        await kv.delete("a.x", r1);
        assert.deepEqual(
          [...((await kv.get("a.x"))?.value ?? [])],
          [2],
          "a delete at a stale revision leaves the entry",
        );
        await kv.delete("a.x", r2);
        assert.equal(await kv.get("a.x"), null);
        assert.deepEqual((await kv.keys("a.>")).sort(), ["a.y"]);
        assert.ok((await kv.create("a.x", v(6))) !== null, "a deleted key can be created again");
      });

      it("entries gives each key's latest value and revision once, none of deleted keys; size counts keys", async () => {
        const kv = await tb.bus.kv({ name: "test_entries", ttlMs: 0, history: 3 });
        const all = async () => {
          const out: [string, number[], number][] = [];
          for await (const { key, entry } of kv.entries()) out.push([key, [...entry.value], entry.revision]);
          return out.sort((a, b) => a[0].localeCompare(b[0]));
        };
        assert.deepEqual(await all(), [], "an empty bucket");
        assert.equal(await kv.size(), 0);
        await kv.put("a", new Uint8Array([1]));
        const a2 = await kv.put("a", new Uint8Array([2]));
        const b = await kv.put("b.x", new Uint8Array([3]));
        await kv.put("c", new Uint8Array([4]));
        await kv.delete("c");
        assert.deepEqual(await all(), [
          ["a", [2], a2],
          ["b.x", [3], b],
        ]);
        const size = await kv.size();
        // A deleted key's marker may count (NATS keeps it), an older revision never does.
        assert.ok(size >= 2 && size <= 3, `size ${size}`);
      });

      it("entries expire after the bucket's TTL", async () => {
        const kv = await tb.bus.kv({ name: "test_ttl", ttlMs: T(1_000), history: 1 });
        await kv.put("k", new Uint8Array([1]));
        assert.ok(await kv.get("k"));
        await eventuallyAsync(async () => (await kv.get("k")) === null, T(6_000));
        assert.deepEqual(await kv.keys(), []);
      });

      it("applyTtl sets a new TTL on an existing bucket, for the entries already in it; a plain open keeps it", async () => {
        const kept = await tb.bus.kv({ name: "test_retention", ttlMs: 0, history: 1 });
        await kept.put("old", new Uint8Array([1]));
        const shortened = await tb.bus.kv({ name: "test_retention", ttlMs: T(1_000), history: 1, applyTtl: true });
        await eventuallyAsync(async () => (await shortened.get("old")) === null, T(6_000));
        // Opened again by someone who does not own the setting: the bucket keeps the owner's TTL.
        const plain = await tb.bus.kv({ name: "test_retention", ttlMs: 0, history: 1 });
        await plain.put("new", new Uint8Array([2]));
        assert.ok(await plain.get("new"));
        await eventuallyAsync(async () => (await plain.get("new")) === null, T(6_000));
      });

      it("a watch sees a key created after it started, and its deletion", async () => {
        const kv = await tb.bus.kv({ name: "test_watch", ttlMs: 0, history: 1 });
        const ac = new AbortController();
        const seen = collect(kv.watch("k", ac.signal), 2);
        await delay(200);
        await kv.put("k", new Uint8Array([7]));
        await kv.delete("k");
        const got = await seen;
        ac.abort();
        assert.deepEqual(
          got.map((e) => (e ? [...e.value] : null)),
          [[7], null],
        );
      });
    });

    describe("streams (the Bus)", () => {
      it("with limits retention, each consumer sees every message, whatever the others ack", async () => {
        const stream: StreamSpec = {
          name: "TEST_LIMITS",
          subjects: ["test.limits.>"],
          retention: "limits",
          maxAgeMs: 60_000,
          duplicateWindowMs: 60_000,
        };
        const spec = (durable: string): ConsumerSpec => ({
          stream,
          durable,
          filter: "test.limits.>",
          ackWaitMs: 30_000,
          maxDeliver: -1,
        });
        const one = await tb.bus.inbox(spec("one"));
        await tb.bus.publish(stream, "test.limits.a", new Uint8Array([1]), {});
        const two = await tb.bus.inbox(spec("two"));
        const first = await one.next(NOTHING_MS);
        assert.deepEqual([...(first?.data ?? [])], [1]);
        first?.ack();
        const second = await two.next(NOTHING_MS);
        assert.deepEqual([...(second?.data ?? [])], [1]);
        second?.ack();
        assert.equal(await one.next(NOTHING_MS), null);
      });
    });

    describe("worker events", () => {
      it("round trip with the worker id, the attempt, the event and the given trace context", async () => {
        const c = ch();
        const taskId = newTaskId();
        await c.workerEvents.publisher("w1")(
          taskId,
          3,
          { case: "step", value: { step: 2, totalSteps: 8, stepSeconds: 0.5 } },
          sampleContext(),
        );
        const d = await (await c.workerEvents.inbox()).next(NOTHING_MS);
        assert.ok(d);
        assert.equal(d.taskId, taskId);
        assert.equal(d.message.taskId, taskId);
        assert.equal(d.message.attempt, 3);
        assert.equal(d.message.workerId, "w1");
        assert.ok(d.message.time);
        assert.equal(d.message.event.case, "step");
        assert.equal(d.message.event.case === "step" ? d.message.event.value.step : -1, 2);
        assert.equal(traceIdOf(d.traceContext), SAMPLE_SPAN.traceId);
        d.ack();
      });
    });

    describe("cancellations", () => {
      it("reach every subscriber; malformed payloads are ignored", async () => {
        const c = ch();
        const heardA: string[] = [];
        const heardB: string[] = [];
        const subA = c.cancellations.subscribe((id) => heardA.push(id));
        const subB = c.cancellations.subscribe((id) => heardB.push(id));
        tb.bus.broadcast(CANCEL_SUBJECT, new Uint8Array([0x0a, 0x05, 0x61]));
        c.cancellations.broadcast("t1");
        await eventually(() => heardA.length >= 1 && heardB.length >= 1);
        await delay(100);
        assert.deepEqual(heardA, ["t1"]);
        assert.deepEqual(heardB, ["t1"]);
        subA.unsubscribe();
        c.cancellations.broadcast("t2");
        await eventually(() => heardB.length >= 2);
        await delay(100);
        assert.deepEqual(heardA, ["t1"]);
        subB.unsubscribe();
      });
    });

    describe("task controls", () => {
      it("reach every subscriber with their kind and attempt; malformed and unknown ones are ignored", async () => {
        const c = ch();
        const heardA: TaskControlMessage[] = [];
        const heardB: TaskControlMessage[] = [];
        const subA = c.taskControls.subscribe((m) => heardA.push(m));
        const subB = c.taskControls.subscribe((m) => heardB.push(m));
        tb.bus.broadcast(TASK_CONTROL_SUBJECT, new Uint8Array([0x0a, 0x05, 0x61]));
        // task_id "t0", action 99 (no such action)
        tb.bus.broadcast(TASK_CONTROL_SUBJECT, new Uint8Array([0x0a, 0x02, 0x74, 0x30, 0x10, 0x63]));
        c.taskControls.broadcast({ taskId: "t1", kind: "pause" });
        c.taskControls.broadcast({ taskId: "t2", kind: "yield", attempt: 3 });
        await eventually(() => heardA.length >= 2 && heardB.length >= 2);
        await delay(100);
        const expected = [
          { taskId: "t1", kind: "pause", attempt: 0 },
          { taskId: "t2", kind: "yield", attempt: 3 },
        ];
        assert.deepEqual(heardA, expected);
        assert.deepEqual(heardB, expected);
        subA.unsubscribe();
        c.taskControls.broadcast({ taskId: "t3", kind: "resume" });
        c.taskControls.broadcast({ taskId: "t3", kind: "priority" });
        await eventually(() => heardB.length >= 4);
        await delay(100);
        assert.equal(heardA.length, 2);
        assert.deepEqual(
          heardB.slice(2).map((m) => m.kind),
          ["resume", "priority"],
        );
        subB.unsubscribe();
      });
    });

    describe("task changes", () => {
      it("dedupe per task, status and attempt", async () => {
        const c = ch();
        const taskId = newTaskId();
        await c.taskChanges.publish(record(taskId, { status: TaskStatus.PROCESSING }));
        await c.taskChanges.publish(record(taskId, { status: TaskStatus.PROCESSING }));
        await c.taskChanges.publish(record(taskId, { status: TaskStatus.PROCESSING, attempt: 2 }));
        await c.taskChanges.publish(record(taskId, { status: TaskStatus.COMPLETED, attempt: 2 }));
        const inbox = await c.taskChanges.inbox();
        const seen: string[] = [];
        for (let d = await inbox.next(NOTHING_MS); d; d = await inbox.next(NOTHING_MS)) {
          seen.push(`${d.message.task?.status}/${d.message.task?.attempt}`);
          assert.equal(d.taskId, taskId);
          d.ack();
        }
        assert.deepEqual(seen, [
          `${TaskStatus.PROCESSING}/1`,
          `${TaskStatus.PROCESSING}/2`,
          `${TaskStatus.COMPLETED}/2`,
        ]);
      });
    });

    describe("result expiry", () => {
      it("a deletion is a change of its own; the retention consumer sees every change beside the webhooks one", async () => {
        const c = ch();
        const taskId = newTaskId();
        const done = record(taskId, { status: TaskStatus.COMPLETED });
        await c.taskChanges.publish(done);
        const deleted = record(taskId, { status: TaskStatus.COMPLETED });
        if (deleted.task) deleted.task.resultState = ResultState.DELETED;
        await c.taskChanges.publish(deleted);
        await c.taskChanges.publish(deleted);
        const drain = async (inbox: Inbox<TaskRecord>): Promise<ResultState[]> => {
          const seen: ResultState[] = [];
          for (let d = await inbox.next(NOTHING_MS); d; d = await inbox.next(NOTHING_MS)) {
            seen.push(d.message.task?.resultState ?? ResultState.UNSPECIFIED);
            d.ack();
          }
          return seen;
        };
        const want = [ResultState.UNSPECIFIED, ResultState.DELETED];
        assert.deepEqual(await drain(await c.taskChanges.inbox()), want);
        assert.deepEqual(await drain(await resultExpiry(tb.bus).changes()), want);
      });

      it("lists due entries by expiry hour from a cursor, and forgets those done", async () => {
        const expiry = resultExpiry(tb.bus);
        const now = 1_800_000_000;
        const [a, b, late] = [newTaskId(), newTaskId(), newTaskId()];
        await expiry.schedule(a, now - 10, now - 7200);
        await expiry.schedule(b, now + 10, now - 7200);
        // Indexed after its expiry had passed: filed under the hour it was indexed in.
        await expiry.schedule(late, now - 5 * 3600, now);
        assert.equal(await expiry.cursor(), null);
        const due = await expiry.due(now, expiryHour(now) - 1);
        assert.deepEqual(due.map((d) => d.taskId).sort(), [a, late].sort());
        for (const d of due) await expiry.done(d.key);
        await expiry.setCursor(expiryHour(now));
        assert.equal(await expiry.cursor(), expiryHour(now));
        assert.deepEqual(await expiry.due(now, expiryHour(now)), []);
        assert.deepEqual(
          (await expiry.due(now + 10, expiryHour(now))).map((d) => d.taskId),
          [b],
        );
      });
    });

    describe("queue estimates", () => {
      it("are answered by the responder, and rejected when nobody answers", async () => {
        const c = ch();
        await assert.rejects(c.queueEstimates.request(["x"], 500));
        const sub = c.queueEstimates.answer((ids) =>
          ids.map((taskId, position) => create(QueueEstimateSchema, { taskId, position })),
        );
        const got = await c.queueEstimates.request(["a", "b"], 2_000);
        assert.deepEqual(
          got.map((e) => [e.taskId, e.position]),
          [
            ["a", 0],
            ["b", 1],
          ],
        );
        sub.unsubscribe();
        await delay(50);
        await assert.rejects(c.queueEstimates.request(["x"], 500));
      });

      it("give a responder at most MAX_ESTIMATE_IDS ids, and an empty answer when it throws", async () => {
        const c = ch();
        let asked = 0;
        const sub = c.queueEstimates.answer((ids) => {
          asked = ids.length;
          if (ids[0] === "boom") throw new Error("boom");
          return [];
        });
        const many = Array.from({ length: MAX_ESTIMATE_IDS + 5 }, (_, i) => `t${i}`);
        assert.deepEqual(await c.queueEstimates.request(many, 2_000), []);
        assert.equal(asked, MAX_ESTIMATE_IDS);
        assert.deepEqual(await c.queueEstimates.request(["boom"], 2_000), []);
        sub.unsubscribe();
      });
    });

    describe("queue stats", () => {
      it("are written and read per tenant", async () => {
        const c = ch();
        assert.equal(await c.queueStats.read("acme"), null);
        await c.queueStats.write("acme", 3, 1);
        const s = await c.queueStats.read("acme");
        assert.equal(s?.tenantId, "acme");
        assert.equal(s?.queued, 3);
        assert.equal(s?.running, 1);
        assert.ok(s?.updateTime);
      });
    });

    describe("worker registry", () => {
      it("lists live groups from fresh heartbeats", async () => {
        const c = ch();
        const beat = (workerId: string, group: string) =>
          c.workerRegistry.beat({
            workerId,
            group,
            pools: [group],
            model: "m",
            executionProvider: "cpu",
            busyTaskId: "",
          });
        await beat("w1", "vip");
        await beat("w2", "vip");
        await beat("w3", "standard");
        await c.workerRegistry.remove("w3");
        const groups = await c.workerRegistry.liveGroups(10_000);
        assert.deepEqual(
          groups.map((g) => [g.group, g.pools, g.workers]),
          [["vip", ["vip"], 2]],
        );
        assert.deepEqual(await c.workerRegistry.liveGroups(10_000, Date.now() + 20_000), []);
      });
    });

    describe("attempt claims", () => {
      it("one holder per attempt and stage; done is final; taken over after the lease or when released", async () => {
        const at = (offsetMs: number) => attemptClaims(tb.bus, () => Date.now() + offsetMs);
        const a = await ch().attemptClaims.claim("generate", "t1", 1, "a/1", 60_000);
        assert.equal(a.kind, "claimed");
        const held = await ch().attemptClaims.claim("generate", "t1", 1, "b/1", 60_000);
        assert.equal(held.kind, "held");
        assert.equal(held.kind === "held" && held.holder, "a/1");
        assert.ok(held.kind === "held" && held.leaseUntilMs > Date.now() + 50_000, "with the lease's end");
        // Another stage and another attempt are claims of their own.
        assert.equal((await ch().attemptClaims.claim("encode", "t1", 1, "b/1", 60_000)).kind, "claimed");
        assert.equal((await ch().attemptClaims.claim("generate", "t1", 2, "b/1", 60_000)).kind, "claimed");
        if (a.kind !== "claimed") return;
        assert.equal(await a.claim.renew(), true);
        // Past the lease b takes it over; a's next write is refused (fenced).
        const b = await at(120_000).claim("generate", "t1", 1, "b/1", 60_000);
        assert.equal(b.kind, "claimed");
        assert.equal(await a.claim.renew(), false);
        assert.equal(await a.claim.complete(), false);
        if (b.kind !== "claimed") return;
        assert.equal(await b.claim.complete(), true);
        assert.deepEqual(await at(10 * 60_000).claim("generate", "t1", 1, "c/1", 60_000), { kind: "done" });
        // Released (handed back): the next worker takes it at once.
        const e = await ch().attemptClaims.claim("generate", "t2", 1, "a/1", 60_000);
        if (e.kind !== "claimed") assert.fail(e.kind);
        await e.claim.release();
        assert.equal((await ch().attemptClaims.claim("generate", "t2", 1, "b/1", 60_000)).kind, "claimed");
      });
    });

    describe("leader lease", () => {
      it("has one holder, is taken over after expiry, and the old holder's renew is lost", async () => {
        const a = leaderLease(tb.bus, "a", 5_000);
        const b = leaderLease(tb.bus, "b", 5_000);
        const now = Date.now();
        assert.equal(await a.tryAcquire(now), true);
        assert.equal(await b.tryAcquire(now), false);
        assert.equal(b.heldUntil(), now + 5_000, "when a's lease runs out");
        assert.equal(a.heldUntil(), null);
        assert.equal(await a.renew(now + 1_000), "renewed");
        assert.equal(await a.tryAcquire(now + 2_000), true);
        assert.equal(await b.tryAcquire(now + 20_000), true);
        assert.equal(b.heldUntil(), null);
        assert.equal(await a.renew(now + 20_001), "lost");
        await b.release();
        assert.equal(await a.tryAcquire(now + 20_002), true);
      });
    });

    describe("task store", () => {
      it("takes its owner's retention: records stored before expire with the new TTL", async () => {
        const id = newTaskId();
        await ch().tasks.create(record(id, { tenantId: "kept" }));
        const owner = channels(tb.bus, { tasks: { retentionMs: T(1_000) } });
        await owner.tasks.open();
        const reader = ch();
        await eventuallyAsync(async () => (await reader.tasks.get(id)) === null, T(6_000));
      });

      it("creates once: a second create of the id fails", async () => {
        const c = ch();
        const id = newTaskId();
        const created = await c.tasks.create(record(id));
        assert.ok(created.revision > 0);
        await assert.rejects(c.tasks.create(record(id)));
        assert.equal((await c.tasks.get(id))?.record.task?.taskId, id);
        assert.equal(await c.tasks.get(newTaskId()), null);
      });

      const casTodo = opts.concurrentCasDefect ? { todo: opts.concurrentCasDefect } : {};
      it("update is a compare-and-swap: two concurrent updates both apply", casTodo, async () => {
        const c = ch();
        const id = newTaskId();
        await c.tasks.create(record(id));
        const [x, y] = await Promise.all([
          c.tasks.update(id, (r) => ({ ...r, workerId: "w1" })),
          c.tasks.update(id, (r) => ({ ...r, model: "m1" })),
        ]);
        assert.ok(x && y);
        const now = await c.tasks.get(id);
        assert.equal(now?.record.workerId, "w1");
        assert.equal(now?.record.model, "m1");
        assert.equal(await c.tasks.update(id, () => null), null);
        assert.equal(await c.tasks.update(newTaskId(), (r) => r), null);
      });

      it("files every created task in the active index until it is settled; the seeded marker is not a task", async () => {
        const c = ch();
        const [a, b] = [newTaskId(), newTaskId()];
        await c.tasks.create(record(a));
        await c.tasks.create(record(b));
        assert.deepEqual((await c.tasks.activeIds()).sort(), [a, b].sort());
        await c.tasks.settled(a);
        assert.deepEqual(await c.tasks.activeIds(), [b]);
        assert.equal(await c.tasks.activeSeeded(), false);
        await c.tasks.seeded();
        assert.equal(await c.tasks.activeSeeded(), true);
        await c.tasks.markActive(a);
        assert.deepEqual((await c.tasks.activeIds()).sort(), [a, b].sort());
      });

      it("readMany gives the records asked for that exist, whether a few of many (gets) or most (one pass)", async () => {
        const c = ch();
        const ids = Array.from({ length: 20 }, () => newTaskId());
        for (const id of ids) await c.tasks.create(record(id));
        const updated = await c.tasks.update(ids[0] ?? "", (r) => ({ ...r, pool: "vip" }));
        const read = async (want: string[]) => {
          const out: [string, string, number][] = [];
          for await (const s of c.tasks.readMany(want))
            out.push([s.record.task?.taskId ?? "", s.record.pool, s.revision]);
          return out.sort((a, b) => a[0].localeCompare(b[0]));
        };
        const missing = newTaskId();
        // 2 of 20 records: read one by one; 16 of 20: one pass over the bucket.
        for (const want of [
          [ids[0] ?? "", missing],
          [...ids.slice(0, 15), missing],
        ]) {
          const expected = await Promise.all(
            want
              .filter((id) => id !== missing)
              .map(async (id) => {
                const s = await c.tasks.get(id);
                return [id, s?.record.pool ?? "", s?.revision ?? 0] as [string, string, number];
              }),
          );
          assert.deepEqual(
            await read(want),
            expected.sort((a, b) => a[0].localeCompare(b[0])),
          );
        }
        assert.equal((await read([ids[0] ?? ""]))[0]?.[2], updated?.revision, "the latest revision");
        assert.deepEqual(await read([]), []);
      });

      it("replace with a stale revision returns null", async () => {
        const c = ch();
        const id = newTaskId();
        const first = await c.tasks.create(record(id));
        const second = await c.tasks.replace({ ...first.record, workerId: "w1" }, first.revision);
        assert.ok(second && second.revision > first.revision);
        assert.equal(await c.tasks.replace({ ...first.record, workerId: "w2" }, first.revision), null);
        assert.equal((await c.tasks.get(id))?.record.workerId, "w1");
      });

      it("replace runs its guard after the list writes of a status change; a guard that throws leaves the record", async () => {
        const c = ch();
        const id = newTaskId();
        const first = await c.tasks.create(record(id));
        const completed = (r: TaskRecord): TaskRecord => ({
          ...r,
          task: r.task ? { ...r.task, status: TaskStatus.COMPLETED } : undefined,
        });
        const fenced = new Error("the term ended");
        let asked = 0;
        const guard = (): void => {
          asked++;
          throw fenced;
        };
        await assert.rejects(c.tasks.replace(completed(first.record), first.revision, first.record, { guard }), fenced);
        assert.equal(asked, 1);
        const after = await c.tasks.get(id);
        assert.equal(after?.revision, first.revision, "the record was not written");
        assert.equal(after?.record.task?.status, first.record.task?.status);
        // The list entry written before the guard is only a candidate: a page shows records as they are.
        const listed = await c.tasks.page({
          tenantId: first.record.tenantId,
          status: TaskStatus.COMPLETED,
          from: null,
          limit: 10,
          maxSlots: 100,
        });
        assert.deepEqual(listed.tasks, []);
        const written = await c.tasks.replace(completed(first.record), first.revision, first.record, {
          guard: () => {},
        });
        assert.ok(written && written.revision > first.revision);
        assert.equal((await c.tasks.get(id))?.record.task?.status, TaskStatus.COMPLETED);
      });

      it("watch sees the current record, then later revisions", async () => {
        const c = ch();
        const id = newTaskId();
        await c.tasks.create(record(id));
        const ac = new AbortController();
        const seen = collect(c.tasks.watch(id, ac.signal), 3);
        await delay(200);
        await c.tasks.update(id, (r) => ({ ...r, workerId: "w1" }));
        await c.tasks.update(id, (r) => ({ ...r, workerId: "w2" }));
        const got = await seen;
        ac.abort();
        assert.deepEqual(
          got.map((s) => s.record.workerId),
          ["", "w1", "w2"],
        );
        assert.ok(got[0] && got[1] && got[2] && got[0].revision < got[1].revision && got[1].revision < got[2].revision);
      });

      it("changes hears later revisions of every wanted task from one watch, and none of the others", async () => {
        const c = ch();
        const [a, b, other] = [newTaskId(), newTaskId(), newTaskId()];
        for (const id of [a, b, other]) await c.tasks.create(record(id));
        const wanted = new Set([a, b]);
        const ac = new AbortController();
        const seen = collect(await c.tasks.changes(ac.signal, (id) => wanted.has(id)), 3);
        await c.tasks.update(other, (r) => ({ ...r, workerId: "x" }));
        await c.tasks.update(a, (r) => ({ ...r, workerId: "a1" }));
        await c.tasks.update(b, (r) => ({ ...r, workerId: "b1" }));
        await c.tasks.update(a, (r) => ({ ...r, workerId: "a2" }));
        const got = await seen;
        ac.abort();
        assert.deepEqual(
          got.map((s) => [s.record.task?.taskId, s.record.workerId]),
          [
            [a, "a1"],
            [b, "b1"],
            [a, "a2"],
          ],
        );
      });
    });

    // Writers racing on one key lean on compare-and-swap, which a defective server lets both win.
    const racingCas = opts.concurrentCasDefect ? { todo: opts.concurrentCasDefect } : {};
    describeTaskPages(() => tb.bus, racingCas);

    describe("daily task counts", () => {
      it("count to the limit across replicas, exactly, per tenant and per UTC day", racingCas, async () => {
        const day = Date.UTC(2026, 5, 1, 12);
        const replicas = [channels(tb.bus), channels(tb.bus), channels(tb.bus)];
        const takes = await Promise.all(
          Array.from({ length: 12 }, (_, i) => replicas[i % 3]?.dailyTaskCounts.take("q", day, 7)),
        );
        assert.equal(takes.filter((t) => t?.kind === "counted").length, 7);
        assert.equal(takes.filter((t) => t?.kind === "refused").length, 5);
        assert.deepEqual(
          takes.flatMap((t) => (t?.kind === "counted" ? [t.count] : [])).sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7],
        );
        const c = ch().dailyTaskCounts;
        assert.equal(await c.count("q", day), 7);
        assert.equal(await c.count("q", day + 11 * 3_600_000 + 59 * 60_000), 7, "still that UTC day");
        assert.deepEqual(await c.take("q", day + 12 * 3_600_000, 7), { kind: "counted", count: 1 });
        assert.deepEqual(await c.take("other", day, 7), { kind: "counted", count: 1 });
        // A submit refused beside its take gives the task back, never below nothing.
        await c.giveBack("q", day);
        assert.equal(await c.count("q", day), 6);
        await c.giveBack("other", day);
        await c.giveBack("other", day);
        await c.giveBack("nobody", day);
        assert.equal(await c.count("other", day), 0);
      });
    });

    describe("admission places", () => {
      it("take places up to a limit across replicas, exactly, and drop stale replicas", racingCas, async () => {
        const at = Date.UTC(2026, 5, 1, 12);
        const replicas = [channels(tb.bus), channels(tb.bus), channels(tb.bus)];
        const mine = [0, 0, 0];
        // Each replica takes one place at a time (as the gateway does), the three at once: 12 tries for 7 places.
        const tries = await Promise.all(
          [0, 1, 2].map(async (r) => {
            const won: boolean[] = [];
            for (let i = 0; i < 4; i++) {
              const w = await replicas[r]?.admissionPlaces.set("q", `r${r}`, at, (others) =>
                others + (mine[r] ?? 0) >= 7 ? null : (mine[r] ?? 0) + 1,
              );
              if (w?.written) mine[r] = (mine[r] ?? 0) + 1;
              won.push(w?.written ?? false);
            }
            return won;
          }),
        );
        assert.equal(tries.flat().filter(Boolean).length, 7);
        const c = ch().admissionPlaces;
        assert.equal(await c.others("q", "none", at), 7);
        assert.equal(await c.others("q", "r0", at), 7 - (mine[0] ?? 0), "a replica's own places are not others'");
        // A replica gives its places back.
        await c.set("q", "r1", at, () => 0);
        assert.equal(await c.others("q", "none", at), 7 - (mine[1] ?? 0));
        // An entry not rewritten for PLACES_STALE_MS is a replica that stopped.
        assert.equal(await c.others("q", "none", at + PLACES_STALE_MS), 0);
        assert.equal(await c.others("other", "none", at), 0);
      });
    });

    describe("result cache", () => {
      it("keeps where an identical request's video is", async () => {
        const cache = resultCache(tb.bus, 1);
        const id = newTaskId();
        assert.equal(await cache.get("k"), null);
        await cache.put("k", { ...record(id), videoObject: `${id}.mp4`, videoSizeBytes: 42n });
        const hit = await cache.get("k");
        assert.equal(hit?.taskId, id);
        assert.equal(hit?.videoObject, `${id}.mp4`);
        assert.equal(hit?.videoSizeBytes, 42n);
        assert.equal(await cache.get(""), null);
      });
    });

    describe("usage ledger", () => {
      it("records a task once and lists a tenant's period", async () => {
        const c = ch();
        const day = Date.UTC(2026, 10, 10, 12);
        const early = record(newTaskId(day - 86_400_000), { status: TaskStatus.COMPLETED, finishMs: day - 86_400_000 });
        const inside = record(newTaskId(day), { status: TaskStatus.COMPLETED, finishMs: day });
        const other = record(newTaskId(day), { tenantId: "other", status: TaskStatus.COMPLETED, finishMs: day });
        assert.equal(await c.usage.record(inside), "written");
        assert.equal(await c.usage.record(inside), "exists");
        await c.usage.record(early);
        await c.usage.record(other);
        const since = new Date(Date.UTC(2026, 10, 10));
        const until = new Date(Date.UTC(2026, 10, 11));
        const listed = await c.usage.list("acme", since, until);
        assert.deepEqual(
          listed.map((u) => u.taskId),
          [inside.task?.taskId],
        );
        assert.equal((await c.usage.list("acme", new Date(day - 2 * 86_400_000), until)).length, 2);
      });
    });

    describe("dead letters", () => {
      it("are listed newest first", async () => {
        const c = ch();
        const older = record(newTaskId(Date.now() - 60_000), { status: TaskStatus.FAILED, attempt: 3 });
        const newer = record(newTaskId(), { status: TaskStatus.FAILED });
        await c.deadLetters.put(older, "generate");
        await c.deadLetters.put(newer, "decode");
        const letters = await c.deadLetters.list();
        assert.deepEqual(
          letters.map((l) => [l.taskId, l.stage]),
          [
            [newer.task?.taskId, "decode"],
            [older.task?.taskId, "generate"],
          ],
        );
        assert.equal(letters[1]?.attempts, 3);
      });
    });

    describe("media stores", () => {
      it("put bytes and streams, get, info, stream and delete", async () => {
        const { latents, videos } = await openMediaStores(tb.bus, { videoTtlHours: 1 });
        const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
        const put = await latents.put("t.1", bytes);
        assert.equal(put.size, bytes.length);
        assert.deepEqual(await latents.info("t.1"), put);
        assert.deepEqual(await latents.get("t.1"), bytes);

        const streamed = await videos.put("t.mp4", streamOf([bytes.subarray(0, 1000), bytes.subarray(1000)]));
        assert.equal(streamed.size, bytes.length);
        assert.equal(streamed.digest, put.digest, "the digest depends on the content only");
        assert.deepEqual(await videos.get("t.mp4"), bytes);
        const chunks = await videos.stream("t.mp4");
        assert.ok(chunks);
        const parts: Uint8Array[] = [];
        for await (const chunk of chunks) parts.push(chunk);
        assert.deepEqual(new Uint8Array(Buffer.concat(parts)), bytes);

        const changed = await videos.put("t.mp4", bytes.subarray(1));
        assert.notEqual(changed.digest, put.digest);

        await latents.delete("t.1");
        assert.equal(await latents.get("t.1"), null);
        assert.equal(await latents.info("t.1"), null);
        assert.equal(await latents.stream("t.1"), null);
        // Deleting again, or what never was, changes nothing: an ended task's settlement deletes
        // every attempt's latents, most of them gone already.
        await latents.delete("t.1");
        await latents.delete("never-stored");
        await latents.put("t.1", bytes.subarray(0, 10));
        assert.equal((await latents.info("t.1"))?.size, 10, "a name deleted twice can be written again");
        await latents.delete("t.1");
        assert.equal(await videos.get("missing"), null);
        assert.equal(await latents.get("t.mp4"), null, "the two stores are separate");
      });

      it("streams a range from its offset, across chunk boundaries, also of objects written side by side", async () => {
        const { videos } = await openMediaStores(tb.bus, { videoTtlHours: 1 });
        const KiB = 1024;
        const a = new Uint8Array(1100 * KiB).map((_, i) => (i * 7) % 253);
        const b = new Uint8Array(900 * KiB).map((_, i) => (i * 13) % 241);
        // Written at the same time from streams of small parts, so one store's chunks can interleave.
        const parts = (x: Uint8Array) =>
          Array.from({ length: Math.ceil(x.length / 4096) }, (_, i) => x.subarray(i * 4096, (i + 1) * 4096));
        await Promise.all([videos.put("a.mp4", streamOf(parts(a))), videos.put("b.mp4", streamOf(parts(b)))]);
        await videos.put("c.jpg", a.subarray(0, 300 * KiB));
        const read = async (name: string, offset: number, length?: number): Promise<Uint8Array> => {
          const chunks = await videos.stream(name, length === undefined ? { offset } : { offset, length });
          assert.ok(chunks, name);
          const out: Uint8Array[] = [];
          for await (const c of chunks) out.push(c);
          return new Uint8Array(Buffer.concat(out));
        };
        const cases: [string, Uint8Array, number, number | undefined][] = [
          ["a.mp4", a, 0, 10],
          ["a.mp4", a, 256 * KiB - 5, 10],
          ["a.mp4", a, 128 * KiB - 1, 300 * KiB],
          ["a.mp4", a, 1000 * KiB + 3, undefined],
          ["a.mp4", a, a.length - 1, undefined],
          ["a.mp4", a, 700 * KiB, 10 * 1024 * KiB],
          ["b.mp4", b, 512 * KiB, undefined],
          ["b.mp4", b, 1, b.length - 2],
          ["c.jpg", a.subarray(0, 300 * KiB), 200 * KiB, undefined],
        ];
        for (const [name, whole, offset, length] of cases) {
          const want = whole.subarray(offset, length === undefined ? whole.length : offset + length);
          assert.deepEqual(await read(name, offset, length), want, `${name} from ${offset}, ${length ?? "to the end"}`);
        }
        assert.equal((await read("a.mp4", a.length)).length, 0, "an offset at the end gives no bytes");
        assert.equal((await read("a.mp4", a.length + 10)).length, 0, "nor one past it");
        assert.equal((await read("a.mp4", 5, 0)).length, 0, "nor a length of 0");
        assert.equal(await videos.stream("missing.mp4", { offset: 10 }), null);
        await assert.rejects(videos.stream("a.mp4", { offset: -1 }), RangeError);
        await assert.rejects(videos.stream("a.mp4", { offset: 0.5 }), RangeError);
        await assert.rejects(videos.stream("a.mp4", { offset: 0, length: -1 }), RangeError);
        // A reader that stops early leaves the store usable.
        const early = await videos.stream("a.mp4", { offset: 300 * KiB });
        assert.ok(early);
        for await (const _ of early) break;
        assert.deepEqual(await read("a.mp4", 0), a);
      });
    });
  });
}

async function eventuallyAsync(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await delay(20);
  }
}

/**
 * Media stores' size limits (`storeLimits`, from LATENTS_STORE_MAX_GB and its siblings): a full
 * store refuses a new object and keeps the old ones. `makeBus` gives an empty bus with the limits.
 */
export function describeStoreLimits(
  name: string,
  makeBus: (storeLimits: Readonly<Record<string, number>>) => Promise<TestBus>,
): void {
  describe(`media store limits: ${name}`, () => {
    it("a full store refuses a new object and keeps those it has; other stores are not limited by it", async () => {
      const tb = await makeBus({ t2v_latents: 1024 * 1024 });
      try {
        const { latents, videos } = await openMediaStores(tb.bus, { videoTtlHours: 1 });
        const part = new Uint8Array(400 * 1024).fill(7);
        await latents.put("a", part);
        await latents.put("b", part);
        await assert.rejects(latents.put("c", part), /maximum bytes|exceed|full/i);
        assert.equal((await latents.info("a"))?.size, part.length, "nothing old was dropped");
        assert.equal((await latents.info("c")) ?? null, null);
        await latents.delete("a");
        await latents.put("c", part);
        await videos.put("v", new Uint8Array(2 * 1024 * 1024));
      } finally {
        await tb.close();
      }
    });
  });
}
