import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTaskId, newTaskId, taskIdTime } from "./ids.js";

describe("task ids", () => {
  it("are UUIDv7 carrying their creation time, and sort by it", () => {
    const a = newTaskId(1_700_000_000_000);
    const b = newTaskId(1_700_000_000_001);
    assert.ok(isTaskId(a) && isTaskId(b));
    assert.equal(taskIdTime(a), 1_700_000_000_000);
    assert.ok(a < b);
  });
});
