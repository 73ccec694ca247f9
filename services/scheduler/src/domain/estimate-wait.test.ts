import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { estimateWait, updateMean } from "./estimate-wait.js";

describe("estimateWait", () => {
  it("starts at once when a worker is free", () => {
    assert.deepEqual(estimateWait(0, { workers: 2, running: 1, meanRunSeconds: 10 }, 1000), {
      startMs: 1000,
      finishMs: 11_000,
    });
  });
  it("waits a run for each round of busy workers ahead", () => {
    // 2 workers busy, 3 tasks ahead: this one starts after 2 rounds.
    assert.equal(estimateWait(3, { workers: 2, running: 2, meanRunSeconds: 10 }, 0)?.startMs, 20_000);
  });
  it("gives whole milliseconds, which timestamps need", () => {
    const e = estimateWait(2, { workers: 1, running: 1, meanRunSeconds: 1.2345678 }, 1000.5);
    assert.ok(e && Number.isInteger(e.startMs) && Number.isInteger(e.finishMs));
  });
  it("gives no estimate without live workers or a run time", () => {
    assert.equal(estimateWait(0, { workers: 0, running: 0, meanRunSeconds: 10 }, 0), undefined);
    assert.equal(estimateWait(0, { workers: 1, running: 0, meanRunSeconds: 0 }, 0), undefined);
  });
});

describe("updateMean", () => {
  it("starts from the first sample and moves towards new ones", () => {
    assert.equal(updateMean(undefined, 10), 10);
    assert.equal(updateMean(10, 20, 0.5), 15);
  });
});
