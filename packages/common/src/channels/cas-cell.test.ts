import assert from "node:assert/strict";
import { test } from "node:test";
import type { KvBucket } from "./bus/bus.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import { casCells } from "./cas-cell.js";

const text = new TextEncoder();
const untext = new TextDecoder();
const num = (v: Uint8Array | null) => (v ? Number(untext.decode(v)) : 0);

/** A bucket that counts the reads and writes made through it. */
async function countedBucket() {
  const kv = await createMemoryBus().kv({ name: "cells", ttlMs: 60_000, history: 1 });
  const ops = { gets: 0, writes: 0 };
  const counted: KvBucket = {
    ...kv,
    get: (k) => {
      ops.gets++;
      return kv.get(k);
    },
    create: (k, v) => {
      ops.writes++;
      return kv.create(k, v);
    },
    update: (k, v, r) => {
      ops.writes++;
      return kv.update(k, v, r);
    },
  };
  return { kv, counted, ops };
}

const increment = (by: number) => (current: Uint8Array | null) => {
  const n = num(current) + by;
  return { next: text.encode(String(n)), result: n };
};

test("while no other process writes the key, a change after the first is one write and no read", async () => {
  const { counted, ops } = await countedBucket();
  const cells = casCells(counted, "counter", 5);
  assert.equal(await cells.change("k", increment(1)), 1);
  assert.deepEqual(ops, { gets: 1, writes: 1 });
  assert.equal(await cells.change("k", increment(2)), 3);
  assert.equal(await cells.change("k", increment(3)), 6);
  assert.deepEqual(ops, { gets: 1, writes: 3 });
});

test("another writer in between: the kept revision loses, the key is read and the step asked again", async () => {
  const { kv, counted, ops } = await countedBucket();
  const cells = casCells(counted, "counter", 5);
  await cells.change("k", increment(1));
  const e = await kv.get("k");
  await kv.update("k", text.encode("100"), e?.revision ?? 0);
  assert.equal(await cells.change("k", increment(1)), 101);
  assert.equal(num((await kv.get("k"))?.value ?? null), 101);
  assert.deepEqual(ops, { gets: 2, writes: 3 });
});

test("a step that writes nothing is believed on a fresh read only", async () => {
  const { kv, counted } = await countedBucket();
  const cells = casCells(counted, "counter", 5);
  const takeBelow = (limit: number) => (current: Uint8Array | null) =>
    num(current) >= limit
      ? { next: null, result: "refused" }
      : { next: text.encode(String(num(current) + 1)), result: "taken" };
  await cells.change("k", increment(5));
  // Another replica gives some back; the kept value (5) would refuse.
  const e = await kv.get("k");
  await kv.update("k", text.encode("2"), e?.revision ?? 0);
  assert.equal(await cells.change("k", takeBelow(5)), "taken");
  assert.equal(num((await kv.get("k"))?.value ?? null), 3);
});

test("a key deleted behind the kept revision is created again", async () => {
  const { kv, counted } = await countedBucket();
  const cells = casCells(counted, "counter", 5);
  await cells.change("k", increment(4));
  await kv.delete("k");
  assert.equal(await cells.change("k", increment(1)), 1);
});

test("losing every try to other writers fails with the cell's name", async () => {
  const { kv } = await countedBucket();
  const rival: KvBucket = {
    ...kv,
    // Another process writes just before each of ours.
    update: async (k, v, r) => {
      const e = await kv.get(k);
      await kv.put(k, e?.value ?? v);
      return kv.update(k, v, r);
    },
  };
  await kv.put("k", text.encode("1"));
  await assert.rejects(casCells(rival, "daily count", 3).change("k", increment(1)), /contention on the daily count/);
});
