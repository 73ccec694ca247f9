import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DAY_MS } from "@t2v/common/channels";
import {
  createVideoBytesWindow,
  VIDEO_BYTES_PAST_REFRESH_MS,
  VIDEO_BYTES_TODAY_REFRESH_MS,
} from "./video-bytes-window.js";

const TODAY = 20_000;
const NOON = TODAY * DAY_MS + DAY_MS / 2;
const PAST = 7;

/** Day counters as the videoBytes channel holds them, counting the gets by day. */
function fakeCounts(perDay: Record<string, Record<number, number>>) {
  const gets: number[] = [];
  let failing = false;
  return {
    countedOn: async (tenantId: string, day: number) => {
      gets.push(day);
      if (failing) throw new Error("bus away");
      return perDay[tenantId]?.[day] ?? 0;
    },
    gets,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

describe("createVideoBytesWindow", () => {
  it("sums today and the window's days before it, not days past the window", async () => {
    const counts = fakeCounts({
      acme: { [TODAY]: 500, [TODAY - 1]: 3, [TODAY - PAST]: 4, [TODAY - PAST - 1]: 1000 },
    });
    const w = createVideoBytesWindow(counts, { pastDays: PAST, maxTenants: 10 }, () => NOON);
    assert.equal(await w.stored("acme"), 507);
    assert.equal(counts.gets.length, PAST + 1, "one get per day");
    assert.equal(await w.stored("other"), 0);
  });

  it("reads today again after a few seconds, the earlier days after a minute, both on a new day", async () => {
    const days: Record<number, number> = { [TODAY]: 10, [TODAY - 1]: 100 };
    const counts = fakeCounts({ acme: days });
    let t = NOON;
    const w = createVideoBytesWindow(counts, { pastDays: PAST, maxTenants: 10 }, () => t);
    await Promise.all([w.stored("acme"), w.stored("acme")]);
    assert.equal(counts.gets.length, PAST + 1, "concurrent submits share one read");
    days[TODAY] = 20;
    days[TODAY - 1] = 200;
    t += VIDEO_BYTES_TODAY_REFRESH_MS - 1;
    assert.equal(await w.stored("acme"), 110, "cached: no read per submit");
    assert.equal(counts.gets.length, PAST + 1);
    t += 1;
    assert.equal(await w.stored("acme"), 120, "today read again");
    assert.deepEqual(counts.gets.slice(PAST + 1), [TODAY], "and only today");
    t = NOON + VIDEO_BYTES_PAST_REFRESH_MS;
    assert.equal(await w.stored("acme"), 220, "the earlier days read again after a minute");
    days[TODAY + 1] = 1;
    t = NOON + DAY_MS;
    assert.equal(await w.stored("acme"), 221, "the next day: today joins the earlier days");
  });

  it("forgets a tenant's sums on request (a DeleteTask here) and does not keep a failed read", async () => {
    const days: Record<number, number> = { [TODAY - 3]: 50 };
    const counts = fakeCounts({ acme: days });
    const w = createVideoBytesWindow(counts, { pastDays: PAST, maxTenants: 10 }, () => NOON);
    assert.equal(await w.stored("acme"), 50);
    days[TODAY - 3] = 0;
    assert.equal(await w.stored("acme"), 50, "cached");
    w.forget("acme");
    assert.equal(await w.stored("acme"), 0, "read afresh");
    w.forget("acme");
    counts.fail(true);
    await assert.rejects(w.stored("acme"));
    counts.fail(false);
    days[TODAY] = 8;
    assert.equal(await w.stored("acme"), 8);
  });

  it("holds at most maxTenants tenants, dropping the least recently used", async () => {
    const counts = fakeCounts({});
    const w = createVideoBytesWindow(counts, { pastDays: PAST, maxTenants: 2 }, () => NOON);
    await w.stored("a");
    await w.stored("b");
    await w.stored("a");
    await w.stored("c");
    const gets = counts.gets.length;
    await w.stored("a");
    assert.equal(counts.gets.length, gets, "a was used recently: kept");
    await w.stored("b");
    assert.equal(counts.gets.length, gets + PAST + 1, "b was dropped for c");
  });
});
