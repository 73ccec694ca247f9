import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Bus } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { VIDEO_BYTES_BUCKET, videoBytes } from "./video-bytes.js";

/** The scheduler's bus (it counts and expires) and the gateway's (it reads and deletes); one bus may be both. */
export interface VideoBytesBuses {
  scheduler: Bus;
  gateway: Bus;
  close(): Promise<void>;
}

const DAY = Math.floor(Date.UTC(2026, 5, 1) / DAY_MS);
const at = (day: number, hour = 12) => day * DAY_MS + hour * 3_600_000;

/** The per-tenant byte counts of stored results, against one bus implementation. */
export function describeVideoBytesContract(name: string, makeBuses: () => Promise<VideoBytesBuses>): void {
  describe(`video bytes: ${name}`, () => {
    let b: VideoBytesBuses;
    beforeEach(async () => {
      b = await makeBuses();
    });
    afterEach(async () => {
      await b.close();
    });

    it("counts a task once on its UTC day, per tenant, however often it is asked", async () => {
      const v = videoBytes(b.scheduler);
      assert.equal(await v.count("acme", "t1", 1_000, at(DAY)), "counted");
      assert.equal(await v.count("acme", "t1", 1_000, at(DAY)), "exists", "a redelivered completion");
      assert.equal(await v.count("acme", "t1", 1_000, at(DAY + 1)), "exists", "also on a later day");
      assert.equal(await v.count("acme", "t2", 500, at(DAY, 23)), "counted");
      assert.equal(await v.count("acme", "t3", 7, at(DAY + 1, 0)), "counted");
      assert.equal(await v.count("other", "t4", 3, at(DAY)), "counted");
      const gw = videoBytes(b.gateway);
      assert.deepEqual(
        await Promise.all([gw.countedOn("acme", DAY), gw.countedOn("acme", DAY + 1), gw.countedOn("other", DAY)]),
        [1_500, 7, 3],
      );
      assert.equal(await gw.countedOn("nobody", DAY), 0);
    });

    it("counts one task exactly once when replicas count it at the same time, and many tasks exactly", async () => {
      const replicas = [videoBytes(b.scheduler), videoBytes(b.scheduler), videoBytes(b.scheduler)];
      const same = await Promise.all(replicas.map((r) => r.count("acme", "t1", 1_000, at(DAY))));
      assert.equal(same.filter((x) => x === "counted").length, 1, same.join(","));
      const many = await Promise.all(
        Array.from({ length: 12 }, (_, i) => replicas[i % 3]?.count("acme", `m${i}`, 10 + i, at(DAY))),
      );
      assert.ok(many.every((x) => x === "counted"));
      const sum = Array.from({ length: 12 }, (_, i) => 10 + i).reduce((x, y) => x + y, 0);
      assert.equal(await videoBytes(b.gateway).countedOn("acme", DAY), 1_000 + sum);
    });

    it("takes a deleted task's bytes back from the day it was counted, once, never below 0", async () => {
      const s = videoBytes(b.scheduler);
      const gw = videoBytes(b.gateway);
      await s.count("acme", "t1", 1_000, at(DAY));
      await s.count("acme", "t2", 300, at(DAY + 1));
      // Released two days later: the bytes leave their own day, not today's.
      assert.equal(await gw.release("acme", "t1"), 1_000);
      assert.equal(await gw.release("acme", "t1"), 0, "a repeated DeleteTask");
      assert.equal(await s.release("acme", "t1"), 0, "and the expiry sweep after it");
      assert.deepEqual([await gw.countedOn("acme", DAY), await gw.countedOn("acme", DAY + 1)], [0, 300]);
      assert.equal(await s.count("acme", "t1", 1_000, at(DAY + 2)), "exists", "a late redelivery adds nothing back");
      assert.equal(await gw.countedOn("acme", DAY + 2), 0);
      // Two deletes at once subtract once.
      const both = await Promise.all([gw.release("acme", "t2"), videoBytes(b.gateway).release("acme", "t2")]);
      assert.deepEqual(both.sort(), [0, 300]);
      assert.equal(await gw.countedOn("acme", DAY + 1), 0);
    });

    it("a result deleted before its task was counted is never counted", async () => {
      const gw = videoBytes(b.gateway);
      assert.equal(await gw.release("acme", "early"), 0);
      assert.equal(await videoBytes(b.scheduler).count("acme", "early", 900, at(DAY)), "exists");
      assert.equal(await gw.countedOn("acme", DAY), 0);
    });

    it("a day whose counter was dropped is not taken below 0 (nor written) by a release", async () => {
      const s = videoBytes(b.scheduler);
      await s.count("acme", "t1", 1_000, at(DAY));
      const kv = await b.scheduler.kv(VIDEO_BYTES_BUCKET);
      await kv.delete("acme.20260601");
      assert.equal(await videoBytes(b.gateway).release("acme", "t1"), 1_000);
      assert.equal(await kv.get("acme.20260601"), null);
      await s.count("acme", "t2", 5, at(DAY));
      assert.equal(await s.countedOn("acme", DAY), 5);
    });

    it("refuses keys that would address another tenant's entries, and byte counts that are not one", async () => {
      const v = videoBytes(b.scheduler);
      await assert.rejects(v.count("a.b", "t1", 1, at(DAY)), /not a tenant id/);
      await assert.rejects(v.count("acme", "t.*", 1, at(DAY)), /not a task id/);
      await assert.rejects(v.count("acme", "t1", 0, at(DAY)), /not a byte count/);
      await assert.rejects(v.count("acme", "t1", 1.5, at(DAY)), /not a byte count/);
      await assert.rejects(videoBytes(b.gateway).countedOn("*", DAY), /not a tenant id/);
    });
  });
}
