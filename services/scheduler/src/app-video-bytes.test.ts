import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { dayOf } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createSchedulerHarness, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

describe("scheduler app: each completed task's result bytes counted once for its tenant", () => {
  let h: SchedulerHarness;
  beforeEach(async () => {
    h = await createSchedulerHarness();
  });
  afterEach(() => h.close());

  /** Today's and yesterday's count: a test that runs across midnight UTC still sees its bytes. */
  const stored = async (tenant: string) => {
    const today = dayOf(Date.now());
    return (await h.ch.videoBytes.countedOn(tenant, today)) + (await h.ch.videoBytes.countedOn(tenant, today - 1));
  };

  it("counts the MP4 and the poster once, even when video ready is delivered twice", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const id = await h.submit({ tenant: "t" });
    const job = await w.nextJob();
    assert.ok(job);
    job.ack();
    await w.report(id, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 2 } });
    await w.report(id, 1, { case: "denoised", value: { latentObject: `${id}.1`, denoiseSeconds: 1 } });
    await h.waitFor(id, (x) => x.task?.status === TaskStatus.ENCODING, "encoding");
    const ready = {
      videoObject: `${id}.mp4`,
      sizeBytes: 1_000_000n,
      posterObject: `${id}.jpg`,
      posterSizeBytes: 40_000n,
      frames: 72,
      decodeSeconds: 1,
      encodeSeconds: 1,
    };
    await w.report(id, 1, { case: "videoReady", value: ready });
    await h.waitFor(id, (x) => x.task?.status === TaskStatus.COMPLETED, "completed");
    await h.eventsApplied();
    assert.equal(await stored("t"), 1_040_000);
    // The encoder's event again (a redelivery after a lost ack), then a later sweep: nothing more.
    await w.report(id, 1, { case: "videoReady", value: ready });
    await h.eventsApplied();
    await new Promise((r) => setTimeout(r, 3 * Number(h.config.sweepIntervalMs)));
    assert.equal(await stored("t"), 1_040_000);
    assert.equal(await stored("u"), 0, "another tenant's count is its own");
  });

  it("a result-cache hit reuses the earlier task's video and adds no bytes", async () => {
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const seeded = { tenant: "t", prompt: "a lighthouse at dusk", seed: 7, seedExplicit: true };
    await h.completeThroughWorker(w, seeded);
    assert.equal(await stored("t"), 10, "the worker's video (10 bytes)");

    const second = await h.submit(seeded);
    const r = await h.waitFor(second, (x) => x.task?.status === TaskStatus.COMPLETED, "second completed");
    assert.equal(r.task?.cacheHit, true);
    await waitUntil(
      () => h.ch.tasks.activeIds(),
      (ids) => !ids.includes(second),
      "the cache hit settled",
    );
    assert.equal(await stored("t"), 10);
  });
});
