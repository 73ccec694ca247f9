import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EstimateWatchSchema, TaskSizeSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type WatchPart, WatchSets } from "./watch-sets.js";

function part(generation: bigint, index: number, parts: number, taskIds: string[], gatewayId = "gw-1"): WatchPart {
  return create(EstimateWatchSchema, { gatewayId, generation, part: index, parts, taskIds });
}

describe("WatchSets", () => {
  it("holds a set once all parts of its generation arrived, in any order, and returns the ids new to it", () => {
    const w = new WatchSets();
    assert.equal(w.receive(part(5n, 1, 2, ["c"]), 0), undefined, "half a set is not a set");
    assert.equal(w.get("gw-1"), undefined);
    assert.deepEqual(w.gatewayIds(), []);
    assert.deepEqual(w.receive(part(5n, 0, 2, ["a", "b"]), 0)?.sort(), ["a", "b", "c"]);
    assert.deepEqual([...(w.get("gw-1")?.taskIds ?? [])].sort(), ["a", "b", "c"]);
    assert.deepEqual(w.gatewayIds(), ["gw-1"]);
    // The next generation replaces the set: only "d" is new, "a" is dropped.
    assert.deepEqual(w.receive(part(6n, 0, 1, ["b", "c", "d"]), 1), ["d"]);
    assert.deepEqual([...(w.get("gw-1")?.taskIds ?? [])].sort(), ["b", "c", "d"]);
  });

  it("drops parts of an older generation, and of one overtaken before it was complete", () => {
    const w = new WatchSets();
    w.receive(part(10n, 0, 1, ["a"]), 0);
    assert.equal(w.receive(part(9n, 0, 1, ["old"]), 0), undefined, "older than the set held");
    assert.equal(w.receive(part(10n, 0, 1, ["again"]), 0), undefined, "the same generation twice");
    w.receive(part(11n, 0, 2, ["x"]), 0);
    // Generation 12 overtakes 11 before its second part came: 11's late part is dropped.
    w.receive(part(12n, 0, 2, ["y"]), 0);
    assert.equal(w.receive(part(11n, 1, 2, ["x2"]), 0), undefined);
    assert.deepEqual([...(w.get("gw-1")?.taskIds ?? [])], ["a"]);
    assert.deepEqual(w.receive(part(12n, 1, 2, ["z"]), 0)?.sort(), ["y", "z"]);
    // A part that disagrees on the number of parts of its generation is dropped.
    w.receive(part(13n, 0, 2, ["p"]), 0);
    assert.equal(w.receive(part(13n, 1, 3, ["q"]), 0), undefined);
  });

  it("keeps the sizes asked for, and an empty set empties the gateway's", () => {
    const w = new WatchSets();
    const size = create(TaskSizeSchema, { taskId: "a", pool: "standard", width: 64 });
    w.receive({ ...part(1n, 0, 1, ["a", "b"]), sizes: [size] }, 0);
    assert.equal(w.get("gw-1")?.sizes.get("a")?.width, 64);
    assert.equal(w.get("gw-1")?.sizes.has("b"), false);
    assert.deepEqual(w.receive(part(2n, 0, 1, []), 0), []);
    assert.equal(w.get("gw-1")?.taskIds.size, 0);
  });

  it("forgets a gateway not heard from for the expiry, and keeps one that was", () => {
    const w = new WatchSets();
    w.receive(part(1n, 0, 1, ["a"], "gw-1"), 0);
    w.receive(part(1n, 0, 1, ["b"], "gw-2"), 0);
    w.receive(part(2n, 0, 1, ["b"], "gw-2"), 25_000);
    assert.deepEqual(w.expire(31_000, 30_000), ["gw-1"]);
    assert.equal(w.get("gw-1"), undefined);
    assert.deepEqual(w.gatewayIds(), ["gw-2"]);
  });
});
