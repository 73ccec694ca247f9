import assert from "node:assert/strict";
import { test } from "node:test";
import { keyedBatch } from "./keyed-batch.js";

/** A run that waits until the test lets it go, recording each batch it got. */
function gatedRun() {
  const batches: string[][] = [];
  const gates: (() => void)[] = [];
  const run = async (key: string, items: string[]) => {
    batches.push([key, ...items]);
    await new Promise<void>((release) => gates.push(release));
    return items.map((i) => `${key}:${i}`);
  };
  const releaseAll = () => {
    for (const g of gates.splice(0)) g();
  };
  return { run, batches, releaseAll };
}

const settle = () => new Promise((r) => setImmediate(r));

test("items that come while a run is out go together into the next run, each with its own answer", async () => {
  const g = gatedRun();
  const batch = keyedBatch(g.run);
  const first = batch("t", "a");
  await settle();
  const rest = ["b", "c", "d"].map((i) => batch("t", i));
  await settle();
  assert.deepEqual(g.batches, [["t", "a"]], "one run at a time per key");
  g.releaseAll();
  assert.equal(await first, "t:a");
  await settle();
  assert.deepEqual(g.batches, [
    ["t", "a"],
    ["t", "b", "c", "d"],
  ]);
  g.releaseAll();
  assert.deepEqual(await Promise.all(rest), ["t:b", "t:c", "t:d"]);
});

test("keys do not wait for each other", async () => {
  const g = gatedRun();
  const batch = keyedBatch(g.run);
  const a = batch("a", "1");
  const b = batch("b", "1");
  await settle();
  assert.equal(g.batches.length, 2);
  g.releaseAll();
  assert.deepEqual(await Promise.all([a, b]), ["a:1", "b:1"]);
});

test("a run that throws fails its own batch only; the next batch runs", async () => {
  let calls = 0;
  const batch = keyedBatch(async (_key: string, items: number[]) => {
    calls++;
    if (calls === 1) {
      await settle();
      throw new Error("store away");
    }
    return items.map((i) => i * 10);
  });
  const failed = batch("k", 1);
  const later = [batch("k", 2), batch("k", 3)];
  await assert.rejects(failed, /store away/);
  assert.deepEqual(await Promise.all(later), [20, 30]);
  assert.equal(calls, 2);
});

test("a batch takes at most maxBatch items; a run answering short fails the unanswered items", async () => {
  const sizes: number[] = [];
  const batch = keyedBatch(async (_key: string, items: number[]) => {
    sizes.push(items.length);
    await settle();
    return items[0] === 1 ? items.slice(0, 1) : items;
  }, 2);
  const all = Array.from({ length: 5 }, (_, i) => batch("k", i).then(String, (e: Error) => e.message));
  const got = await Promise.all(all);
  // The first item finds nothing running and goes at once; the rest wait, two at a time.
  assert.deepEqual(sizes, [1, 2, 2]);
  assert.deepEqual([got[0], got[1], got[3], got[4]], ["0", "1", "3", "4"]);
  assert.match(got[2] ?? "", /no answer/);
});
