import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LatestSlot } from "./latest-snapshot.js";

const snap = (seq: number, terminal = false) => ({ value: `s${seq}`, seq, terminal });

describe("LatestSlot", () => {
  it("keeps only the newest snapshot not yet taken, and counts the ones it replaced", () => {
    const slot = new LatestSlot<string>();
    assert.equal(slot.take(), undefined);
    for (let i = 1; i <= 1000; i++) slot.offer(snap(i), 100 + i);
    assert.equal(slot.pendingSinceMs, 101, "pending since the first snapshot it did not hand out");
    assert.equal(slot.coalesced, 999);
    assert.equal(slot.take()?.value, "s1000");
    assert.equal(slot.take(), undefined);
    assert.equal(slot.pendingSinceMs, undefined);
  });

  it("refuses snapshots not newer than one it has seen", () => {
    const slot = new LatestSlot<string>();
    assert.ok(slot.offer(snap(5), 0));
    assert.equal(slot.offer(snap(5), 0), false);
    assert.equal(slot.offer(snap(3), 0), false);
    assert.equal(slot.take()?.seq, 5);
    assert.equal(slot.offer(snap(4), 0), false, "taken ones count as seen");
  });

  it("never lets a later non-terminal snapshot replace a terminal one", () => {
    const slot = new LatestSlot<string>();
    slot.offer(snap(1), 0);
    slot.offer(snap(2, true), 0);
    assert.equal(slot.offer(snap(3), 0), false);
    const s = slot.take();
    assert.equal(s?.seq, 2);
    assert.equal(s?.terminal, true);
    assert.ok(slot.offer(snap(4, true), 0), "a newer terminal one (e.g. the result deleted) still comes");
  });
});
