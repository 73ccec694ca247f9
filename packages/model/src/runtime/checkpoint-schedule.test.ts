import assert from "node:assert/strict";
import { test } from "node:test";
import { CheckpointSchedule } from "./checkpoint-schedule.js";

function dueSteps(s: CheckpointSchedule, from: number, to: number, secondsAt: (step: number) => number): number[] {
  const out: number[] = [];
  for (let step = from; step <= to; step++) if (s.due(step, secondsAt(step))) out.push(step);
  return out;
}

test("step cadence counts from step 0 of the clip and never includes the last step", () => {
  assert.deepEqual(
    dueSteps(new CheckpointSchedule({ steps: 3 }, 10), 1, 10, () => 0),
    [3, 6, 9],
  );
  assert.deepEqual(
    dueSteps(new CheckpointSchedule({ steps: 3 }, 10), 5, 10, () => 0),
    [6, 9],
    "resumed after step 4",
  );
  assert.deepEqual(
    dueSteps(new CheckpointSchedule({ steps: 5 }, 10), 1, 10, () => 0),
    [5],
  );
  assert.deepEqual(
    dueSteps(new CheckpointSchedule(undefined, 10), 1, 10, () => 0),
    [],
  );
});

test("time cadence counts seconds since the last checkpoint; either condition triggers", () => {
  // 0.4 s a step: due once 1 s has passed since the last checkpoint.
  const at = (step: number): number => 0.4 * step;
  assert.deepEqual(dueSteps(new CheckpointSchedule({ seconds: 1 }, 10), 1, 10, at), [3, 6, 9]);
  assert.deepEqual(dueSteps(new CheckpointSchedule({ seconds: 1, steps: 4 }, 10), 1, 10, at), [3, 4, 7, 8]);
});
