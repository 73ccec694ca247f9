import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FairQueue } from "./fair-queue.js";
import { pickNext, queuePosition } from "./pick-next.js";

function queues(entries: [pool: string, id: string, enqueuedAt: number][]): Map<string, FairQueue> {
  const m = new Map(["vip", "standard", "batch"].map((p) => [p, new FairQueue()]));
  for (const [pool, taskId, enqueuedAt] of entries) {
    m.get(pool)?.add({ taskId, tenantId: "t", pool, enqueuedAt, notBefore: 0, priority: 0 });
  }
  return m;
}

const ageing = { batchPromoteAfterMs: 60_000 };
const shared = ["vip", "standard", "batch"];

describe("pickNext", () => {
  it("serves VIP before standard before batch on shared workers", () => {
    const q = queues([
      ["batch", "b", 0],
      ["standard", "s", 1],
      ["vip", "v", 2],
    ]);
    assert.equal(pickNext(q, shared, 10, ageing)?.taskId, "v");
    q.get("vip")?.take("v");
    assert.equal(pickNext(q, shared, 10, ageing)?.taskId, "s");
    q.get("standard")?.take("s");
    assert.equal(pickNext(q, shared, 10, ageing)?.taskId, "b");
  });

  it("gives a VIP-only group nothing but VIP work", () => {
    const q = queues([["standard", "s", 0]]);
    assert.equal(pickNext(q, ["vip"], 10, ageing), undefined);
  });

  it("lets batch work that waited too long go before newer standard work", () => {
    const q = queues([
      ["batch", "old-batch", 0],
      ["standard", "new-standard", 70_000],
    ]);
    assert.equal(pickNext(q, shared, 70_001, ageing)?.taskId, "old-batch");
    assert.equal(pickNext(q, shared, 30_000, ageing)?.taskId, "new-standard");
  });

  it("counts higher-priority work in a task's queue position", () => {
    const q = queues([
      ["vip", "v1", 0],
      ["vip", "v2", 1],
      ["standard", "s1", 2],
      ["standard", "s2", 3],
    ]);
    assert.equal(queuePosition(q, shared, "standard", "s2"), 3);
    assert.equal(queuePosition(q, shared, "vip", "v1"), 0);
    assert.equal(queuePosition(q, shared, "standard", "missing"), undefined);
  });
});
