import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { choosePreemption, type GroupWork, tierRank } from "./preemption-policy.js";

const policy = { enabled: true, minRunMs: 30_000 };
const NOW = 1_000_000;
const vip = { taskId: "v", pool: "vip" };
const group = (workers: number, pools = ["vip", "standard", "batch"]) => ({ group: pools.join("-"), pools, workers });

let n = 0;
function run(pool: string, remainingSteps: number, o: Partial<GroupWork> = {}): GroupWork {
  n++;
  return {
    taskId: `${pool}-${n}`,
    attempt: 1,
    pool,
    started: true,
    remainingSteps,
    runningSince: NOW - 60_000,
    yielding: false,
    ...o,
  };
}

describe("preemption policy", () => {
  it("ranks tiers vip > standard > batch", () => {
    assert.ok(tierRank("vip") < tierRank("standard") && tierRank("standard") < tierRank("batch"));
  });

  it("a VIP task waiting on the only worker, busy with a batch clip, preempts it", () => {
    const batch = run("batch", 30);
    assert.deepEqual(choosePreemption(group(1), vip, [batch], NOW, policy), {
      victim: batch,
      recall: [],
      forTaskId: "v",
      forPool: "vip",
    });
  });

  it("picks the lowest tier first, then the most remaining work", () => {
    const std = run("standard", 39);
    const shortBatch = run("batch", 5);
    const longBatch = run("batch", 20);
    const p = choosePreemption(group(3), vip, [std, shortBatch, longBatch], NOW, policy);
    assert.equal(p?.victim, longBatch);
    // Standard work only when no batch work can be taken.
    assert.equal(choosePreemption(group(1), vip, [std], NOW, policy)?.victim, std);
  });

  it("never preempts for a task of the same or a lower tier", () => {
    assert.equal(
      choosePreemption(group(1), { taskId: "b", pool: "batch" }, [run("batch", 30)], NOW, policy),
      undefined,
    );
    assert.equal(
      choosePreemption(group(1), { taskId: "s", pool: "standard" }, [run("vip", 30)], NOW, policy),
      undefined,
    );
    assert.equal(choosePreemption(group(1), vip, [run("vip", 30)], NOW, policy), undefined);
  });

  it("not while a worker is free, and one preemption at a time per group", () => {
    assert.equal(choosePreemption(group(2), vip, [run("batch", 30)], NOW, policy), undefined);
    const yielding = run("batch", 30, { yielding: true });
    assert.equal(choosePreemption(group(2), vip, [yielding, run("batch", 30)], NOW, policy), undefined);
  });

  it("respects the minimum run quantum, and leaves a task with one step left alone", () => {
    const fresh = run("batch", 30, { runningSince: NOW - 29_999 });
    assert.equal(choosePreemption(group(1), vip, [fresh], NOW, policy), undefined);
    assert.equal(choosePreemption(group(1), vip, [fresh], NOW + 1, policy)?.victim, fresh);
    assert.equal(choosePreemption(group(1), vip, [run("batch", 1)], NOW, policy), undefined);
    // A fresh batch task is skipped for an older standard one.
    const std = run("standard", 10);
    assert.equal(choosePreemption(group(2), vip, [fresh, std], NOW, policy)?.victim, std);
  });

  it("recalls lower-tier jobs waiting for the group, so the freed worker takes the waiting task", () => {
    const running = run("batch", 30);
    const heldBatch = run("batch", 40, { started: false });
    const heldVip = run("vip", 40, { started: false });
    const p = choosePreemption(group(1), vip, [running, heldBatch, heldVip], NOW, policy);
    assert.equal(p?.victim, running);
    assert.deepEqual(p?.recall, [heldBatch]);
  });

  it("a VIP job already dispatched to the group (prefetched, held) waits behind the running batch clip too", () => {
    const running = run("batch", 30);
    const heldVip = run("vip", 4, { started: false });
    const p = choosePreemption(group(1), undefined, [running, heldVip], NOW, policy);
    assert.equal(p?.victim, running);
    assert.equal(p?.forTaskId, heldVip.taskId);
    assert.equal(choosePreemption(group(1), undefined, [running], NOW, policy), undefined);
  });

  it("only for a pool the group serves, and never when disabled", () => {
    assert.equal(choosePreemption(group(1, ["batch"]), vip, [run("batch", 30)], NOW, policy), undefined);
    assert.equal(choosePreemption(group(1), vip, [run("batch", 30)], NOW, { ...policy, enabled: false }), undefined);
  });
});
