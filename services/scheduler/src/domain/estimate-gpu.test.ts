import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { draftSteps, estimateGpuSeconds, REFERENCE_SIZE } from "./estimate-gpu.js";
import { SchedulerState } from "./state.js";

const size = (over: Partial<{ width: number; height: number; numFrames: number; steps: number; draft: boolean }>) => ({
  ...REFERENCE_SIZE,
  steps: 0,
  draft: false,
  ...over,
});

describe("estimateGpuSeconds", () => {
  it("assumes DEFAULT_RUN_SECONDS for the reference clip until anything is measured", () => {
    const c = { secondsPerUnit: undefined, defaultSteps: 10, defaultRunSeconds: 60 };
    assert.equal(estimateGpuSeconds(size({}), c), 60);
    assert.equal(estimateGpuSeconds(size({ steps: 20 }), c), 120, "twice the steps");
    assert.equal(estimateGpuSeconds(size({ numFrames: 60 }), c), 30, "half the frames");
    assert.equal(estimateGpuSeconds(size({ draft: true }), c), (60 * draftSteps(10)) / 10, "a quarter of the steps");
  });

  it("scales the pool's measured seconds per unit once a task completed there", () => {
    const s = new SchedulerState();
    s.learnDefaultSteps(10);
    s.recordGpuSeconds("vip", 8, { width: 832, height: 480, numFrames: 72, steps: 10, draft: false });
    const same = s.estimateGpuSecondsOf("vip", { width: 832, height: 480, numFrames: 72, steps: 0, draft: false }, 60);
    assert.equal(same, 8);
    const big = s.estimateGpuSecondsOf("vip", { width: 1280, height: 720, numFrames: 72, steps: 20, draft: false }, 60);
    assert.ok(Math.abs(big - (8 * 2 * (1280 * 720)) / (832 * 480)) < 0.01);
    assert.equal(s.estimateGpuSecondsOf("batch", size({}), 60), 60, "another pool is not measured yet");
  });
});
