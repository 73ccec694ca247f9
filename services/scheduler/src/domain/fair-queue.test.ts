import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FairQueue, type QueueEntry } from "./fair-queue.js";

const entry = (taskId: string, tenantId: string, enqueuedAt: number, notBefore = 0, priority = 0): QueueEntry => ({
  taskId,
  tenantId,
  pool: "standard",
  enqueuedAt,
  notBefore,
  priority,
});

/** Dispatches everything in order, as the scheduler would with one free worker at a time. */
function drain(q: FairQueue, now = 0): string[] {
  const out: string[] = [];
  for (let e = q.peek(now); e; e = q.peek(now)) {
    out.push(e.taskId);
    q.take(e.taskId);
  }
  return out;
}

describe("FairQueue", () => {
  it("is FIFO within a tenant", () => {
    const q = new FairQueue();
    q.add(entry("a2", "A", 2));
    q.add(entry("a1", "A", 1));
    q.add(entry("a3", "A", 3));
    assert.deepEqual(drain(q), ["a1", "a2", "a3"]);
  });

  it("alternates between tenants, so a big backlog does not delay a small tenant", () => {
    const q = new FairQueue();
    for (let i = 0; i < 1000; i++) q.add(entry(`a${i}`, "A", i));
    q.add(entry("b0", "B", 5000));
    const order = drain(q);
    assert.ok(order.indexOf("b0") <= 1, `b0 dispatched at ${order.indexOf("b0")}`);
    assert.equal(order.length, 1001);
  });

  it("tells each task's position in dispatch order", () => {
    const q = new FairQueue();
    for (let i = 0; i < 5; i++) q.add(entry(`a${i}`, "A", i));
    q.add(entry("b0", "B", 10));
    q.add(entry("b1", "B", 11));
    const positions = new Map(["a0", "a1", "a2", "a3", "a4", "b0", "b1"].map((id) => [id, q.position(id)]));
    const order = drain(q);
    for (const [id, pos] of positions) assert.equal(pos, order.indexOf(id), id);
  });

  it("holds back entries until their retry time", () => {
    const q = new FairQueue();
    q.add(entry("late", "A", 1, 1000));
    q.add(entry("now", "B", 2));
    assert.equal(q.peek(0)?.taskId, "now");
    q.take("now");
    assert.equal(q.peek(500), undefined);
    assert.equal(q.peek(1000)?.taskId, "late");
  });

  it("serves tenants that join in the order they joined", () => {
    const q = new FairQueue();
    q.add(entry("a0", "A", 0));
    q.add(entry("a1", "A", 1));
    q.take("a0");
    q.add(entry("b0", "B", 2));
    q.add(entry("c0", "C", 3));
    assert.deepEqual(drain(q), ["b0", "c0", "a1"]);
  });

  it("removes cancelled entries and keeps the rotation consistent", () => {
    const q = new FairQueue();
    q.add(entry("a0", "A", 0));
    q.add(entry("b0", "B", 1));
    q.add(entry("c0", "C", 2));
    q.remove("b0");
    assert.deepEqual(drain(q), ["a0", "c0"]);
    assert.equal(q.size, 0);
    assert.deepEqual(q.tenants(), []);
  });

  describe("priority", () => {
    it("orders a tenant's own tasks, higher first, then older", () => {
      const q = new FairQueue();
      q.add(entry("a1", "A", 1));
      q.add(entry("a2", "A", 2));
      q.add(entry("a3", "A", 3, 0, 5));
      q.add(entry("a4", "A", 4, 0, 5));
      q.add(entry("a5", "A", 5, 0, -1));
      assert.deepEqual(drain(q), ["a3", "a4", "a1", "a2", "a5"]);
    });

    it("never lets a tenant jump another tenant's turn", () => {
      const q = new FairQueue();
      q.add(entry("a1", "A", 1));
      q.add(entry("b1", "B", 2));
      q.add(entry("a2", "A", 3));
      q.add(entry("b2", "B", 4));
      // B raises its newest task to the top: it goes first among B's, still in B's turn.
      q.add(entry("b2", "B", 4, 0, 100));
      assert.deepEqual(drain(q), ["a1", "b2", "a2", "b1"]);
    });

    it("a re-added entry (a changed priority, a resumed task) takes its new place", () => {
      const q = new FairQueue();
      for (let i = 1; i <= 4; i++) q.add(entry(`a${i}`, "A", i));
      q.add(entry("a4", "A", 4, 0, 1));
      assert.equal(q.position("a4"), 0);
      q.add(entry("a4", "A", 4, 0, 0));
      assert.equal(q.position("a4"), 3);
      assert.deepEqual(drain(q), ["a1", "a2", "a3", "a4"]);
    });

    it("a tenant with one queued task keeps its turn when its priority changes", () => {
      const q = new FairQueue();
      q.add(entry("a1", "A", 1));
      q.add(entry("a2", "A", 2));
      q.add(entry("b1", "B", 3));
      q.add(entry("c1", "C", 4));
      q.take("a1");
      // C's only task changes priority: C must not join again as a newcomer ahead of B.
      q.add(entry("c1", "C", 4, 0, 9));
      assert.deepEqual(drain(q), ["b1", "c1", "a2"]);
    });
  });
});

describe("FairQueue.positionOfNew", () => {
  /** A small deterministic generator, so a failure names the seed that made it. */
  const random = (seed: number) => () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  it("says what position() says of the entry once it is added, whatever the queue went through", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = random(seed);
      const q = new FairQueue();
      const tenants = ["a", "b", "c", "d", "e"];
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
      const added: string[] = [];
      let t = 0;
      for (let step = 0; step < 40; step++) {
        const r = rnd();
        if (r < 0.55) {
          const id = `s${seed}-${step}`;
          q.add(entry(id, pick(tenants), t++, 0, pick([-1, 0, 0, 1])));
          added.push(id);
        } else if (r < 0.8) {
          // Dispatched: the turn moves on.
          const next = q.peek(t);
          if (next) q.take(next.taskId);
        } else if (added.length > 0) q.remove(pick(added)); // cancelled: the turn stays
      }
      const tenant = pick(tenants);
      const priority = pick([-1, 0, 1]);
      const projected = q.positionOfNew(tenant, priority);
      q.add(entry(`new-${seed}`, tenant, t + 1, 0, priority));
      assert.equal(projected, q.position(`new-${seed}`), `seed ${seed}: tenant ${tenant}, priority ${priority}`);
    }
  });

  it("puts a newcomer after the earlier newcomers, and a tenant's new task after its own of the same priority", () => {
    const q = new FairQueue();
    q.add(entry("a1", "a", 0));
    q.add(entry("a2", "a", 1));
    q.add(entry("b1", "b", 2));
    // a1, b1, a2 in dispatch order.
    assert.equal(q.positionOfNew("c", 0), 2, "after the two newcomers a and b");
    assert.equal(q.positionOfNew("b", 0), 3, "b's second task goes after a's second");
    assert.equal(q.positionOfNew("a", 5), 0, "a higher priority goes first in a's own list");
  });
});
