import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { createSchedulerHarness, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

describe("scheduler app: leader lease", () => {
  let h: SchedulerHarness;
  afterEach(() => h.close());

  it("lets one of two replicas lead, and the other take over once it stops", async () => {
    h = await createSchedulerHarness();
    const w = await h.worker(["standard"]);
    const first = await h.startScheduler({ replicaId: "first" });
    await waitUntil(async () => first.isLeader(), Boolean, "first leads");
    const second = await h.startScheduler({ replicaId: "second" });
    // Two lease lengths: the standby keeps trying, the leader keeps renewing.
    await delay(2 * h.config.leaseMs);
    assert.equal(first.isLeader(), true);
    assert.equal(second.isLeader(), false);
    const before = await h.submit();
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, before);
    job.ack();

    await first.stop();
    assert.equal(first.isLeader(), false);
    await waitUntil(async () => second.isLeader(), Boolean, "second leads", 3_000);
    const afterTakeover = await h.submit();
    assert.equal((await w.nextJob())?.message.taskId, afterTakeover);
  });
});
