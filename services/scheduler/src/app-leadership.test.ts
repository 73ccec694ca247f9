import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { createOutageBus } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createSchedulerHarness, runJob, type SchedulerHarness } from "./testing/scheduler-harness.js";
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

  it("a leader cut off from NATS stands down and writes nothing more; the standby's term takes over", async () => {
    h = await createSchedulerHarness();
    const w = await h.worker(["standard"]);
    const outage = createOutageBus(h.bus);
    const first = await h.startScheduler({ replicaId: "first", bus: outage.bus });
    await waitUntil(async () => first.isLeader(), Boolean, "first leads");
    const second = await h.startScheduler({ replicaId: "second" });
    const before = await h.submit();
    const early = await w.nextJob();
    assert.equal(early?.message.taskId, before);
    early.ack();
    const firstTerm = (await h.record(before)).leaderTerm;
    assert.ok(firstTerm > 0n, "records carry the term that wrote them");

    // Partition: the leader's connection is gone, the standby's is fine.
    outage.setDown(true);
    await waitUntil(async () => second.isLeader(), Boolean, "second leads", 10 * h.config.leaseMs);
    const during = await h.submit();
    const job = await w.nextJob(10_000);
    assert.equal(job?.message.taskId, during, "the new term dispatches");
    job.ack();
    const secondTerm = (await h.record(during)).leaderTerm;
    assert.ok(secondTerm > firstTerm, `a later term is a larger number: ${secondTerm} > ${firstTerm}`);

    // The partition heals: the old leader learns it lost the lease and stands by; it never
    // wrote over the new term's records (those it touched would carry its term).
    outage.setDown(false);
    await waitUntil(async () => !first.isLeader(), Boolean, "first stands by", 10 * h.config.leaseMs);
    await runJob(w, job.message);
    const done = await h.waitFor(during, (r) => r.task?.status === TaskStatus.COMPLETED, "completed", 10_000);
    assert.equal(done.leaderTerm, secondTerm);
    assert.equal(second.isLeader(), true);
  });
});
