import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createFanOut } from "./fan-out.js";
import { LatestSlot, type Snapshot } from "./latest-snapshot.js";

function subscriber() {
  const slot = new LatestSlot<number>();
  return { slot, offer: (s: Snapshot<number>) => void slot.offer(s, 0) };
}

describe("createFanOut", () => {
  it("offers each published value to every subscriber of its topic only", () => {
    const fan = createFanOut<number>();
    const subs = Array.from({ length: 1000 }, subscriber);
    const other = subscriber();
    assert.equal(fan.join("a", subs[0] ?? assert.fail()).first, true);
    for (const s of subs.slice(1)) assert.equal(fan.join("a", s).first, false);
    fan.join("b", other);
    assert.ok(fan.publish("a", 1, false));
    assert.ok(fan.publish("a", 2, true));
    for (const s of subs) {
      const got = s.slot.take();
      assert.equal(got?.value, 2);
      assert.equal(got?.terminal, true);
    }
    assert.equal(other.slot.take(), undefined);
    assert.equal(fan.subscribers("a"), 1000);
  });

  it("gives a late joiner the latest snapshot at once, and forgets a topic with its last subscriber", () => {
    const fan = createFanOut<number>();
    const first = subscriber();
    fan.join("a", first);
    fan.publish("a", 7, false);
    const late = subscriber();
    fan.join("a", late);
    assert.equal(late.slot.take()?.value, 7);
    assert.equal(fan.leave("a", first).last, false);
    assert.equal(fan.leave("a", late).last, true);
    assert.equal(fan.latest("a"), undefined);
    assert.deepEqual([...fan.topics()], []);
    assert.equal(fan.publish("a", 8, false), false, "nobody listens");
  });

  it("numbers snapshots per topic in order", () => {
    const fan = createFanOut<number>();
    const s = subscriber();
    fan.join("a", s);
    fan.publish("a", 1, false);
    const a = s.slot.take()?.seq ?? 0;
    fan.publish("a", 2, false);
    assert.ok((s.slot.take()?.seq ?? 0) > a);
  });
});
