import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DAY_MS } from "@t2v/common/channels";
import { createStoredTaskWindow, STORED_WINDOW_PAST_DAYS, STORED_WINDOW_REFRESH_MS } from "./stored-task-window.js";

const TODAY = 20_000;
const NOON = TODAY * DAY_MS + DAY_MS / 2;

/** Day counters as the task lists hold them, counting the gets. */
function fakeLists(perDay: Record<string, Record<number, number>>) {
  let gets = 0;
  let failing = false;
  return {
    createdOn: async (tenantId: string, day: number) => {
      gets++;
      if (failing) throw new Error("bus away");
      return perDay[tenantId]?.[day] ?? 0;
    },
    gets: () => gets,
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

describe("createStoredTaskWindow", () => {
  it("sums the window's days before today, not today nor days past the window", async () => {
    const lists = fakeLists({
      acme: {
        [TODAY]: 500,
        [TODAY - 1]: 3,
        [TODAY - STORED_WINDOW_PAST_DAYS]: 4,
        [TODAY - STORED_WINDOW_PAST_DAYS - 1]: 1000,
      },
    });
    const before = createStoredTaskWindow(lists, 10, () => 0);
    assert.equal(await before("acme", NOON), 7);
    assert.equal(lists.gets(), STORED_WINDOW_PAST_DAYS, "one get per past day");
    assert.equal(await before("other", NOON), 0);
  });

  it("keeps a sum per tenant until it is a minute old or the day changes; a failed read is not kept", async () => {
    const counts: Record<number, number> = { [TODAY - 1]: 2 };
    const lists = fakeLists({ acme: counts });
    let t = 0;
    const before = createStoredTaskWindow(lists, 10, () => t);
    await Promise.all([before("acme", NOON), before("acme", NOON)]);
    assert.equal(lists.gets(), STORED_WINDOW_PAST_DAYS, "concurrent submits share one read");
    counts[TODAY - 1] = 5;
    assert.equal(await before("acme", NOON), 2, "cached");
    t += STORED_WINDOW_REFRESH_MS;
    assert.equal(await before("acme", NOON), 5, "read again after a minute");
    counts[TODAY] = 9;
    assert.equal(await before("acme", NOON + DAY_MS), 14, "the next day: yesterday joins the sum");
    lists.fail(true);
    await assert.rejects(before("acme", NOON + 2 * DAY_MS));
    lists.fail(false);
    assert.equal(await before("acme", NOON + 2 * DAY_MS), 14);
  });

  it("holds at most maxTenants sums, dropping the least recently used", async () => {
    const lists = fakeLists({});
    const before = createStoredTaskWindow(lists, 2, () => 0);
    await before("a", NOON);
    await before("b", NOON);
    await before("a", NOON);
    await before("c", NOON);
    const gets = lists.gets();
    await before("a", NOON);
    assert.equal(lists.gets(), gets, "a was used recently: kept");
    await before("b", NOON);
    assert.equal(lists.gets(), gets + STORED_WINDOW_PAST_DAYS, "b was dropped for c");
  });
});
