import assert from "node:assert/strict";
import { test } from "node:test";
import { fitInQueue } from "./queue-places.js";

const LIMITS = { vip: 5, standard: 3, batch: 10 };

test("a batch fills the queue up to the limit; the submits after it are refused", () => {
  const fit = fitInQueue(1, ["standard", "standard", "standard", "standard"], LIMITS);
  assert.deepEqual(fit.admitted, [true, true, false, false]);
  assert.deepEqual(fit.totals, [1, 2, 3, 3]);
  assert.equal(fit.count, 2);
});

test("each submit is measured against its own tier's limit", () => {
  const fit = fitInQueue(3, ["standard", "vip", "standard", "vip", "vip"], LIMITS);
  assert.deepEqual(fit.admitted, [false, true, false, true, false]);
  assert.equal(fit.count, 2);
});

test("a full queue admits nothing", () => {
  const fit = fitInQueue(10, ["batch", "vip"], LIMITS);
  assert.deepEqual(fit.admitted, [false, false]);
  assert.equal(fit.count, 0);
});
