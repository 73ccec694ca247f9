import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseByteRange } from "./byte-range.js";

describe("parseByteRange", () => {
  it("serves the whole body without a usable header", () => {
    assert.deepEqual(parseByteRange(undefined, 100), { kind: "full" });
    assert.deepEqual(parseByteRange("items=0-1", 100), { kind: "full" });
    assert.deepEqual(parseByteRange("bytes=0-1,5-6", 100), { kind: "full" });
  });
  it("handles open, closed and suffix ranges", () => {
    assert.deepEqual(parseByteRange("bytes=10-19", 100), { kind: "partial", start: 10, end: 19 });
    assert.deepEqual(parseByteRange("bytes=90-", 100), { kind: "partial", start: 90, end: 99 });
    assert.deepEqual(parseByteRange("bytes=-10", 100), { kind: "partial", start: 90, end: 99 });
    assert.deepEqual(parseByteRange("bytes=50-500", 100), { kind: "partial", start: 50, end: 99 });
  });
  it("refuses ranges past the end", () => {
    assert.deepEqual(parseByteRange("bytes=100-", 100), { kind: "unsatisfiable" });
    assert.deepEqual(parseByteRange("bytes=-0", 100), { kind: "unsatisfiable" });
  });
});
