import assert from "node:assert/strict";
import { test } from "node:test";
import { TextCache } from "./text-cache.js";

test("text cache returns the same promise for a pair and evicts the least recently used", async () => {
  const cache = new TextCache<string>(2);
  let encodes = 0;
  const encode = (v: string) => () => {
    encodes++;
    return Promise.resolve(v);
  };
  assert.equal(await cache.get("a", "n", encode("A")), "A");
  assert.equal(await cache.get("a", "n", encode("A2")), "A", "a hit does not encode again");
  await cache.get("b", "n", encode("B"));
  await cache.get("a", "n", encode("A3")); // touches a, so b is now the oldest
  await cache.get("c", "n", encode("C"));
  assert.equal(cache.size, 2);
  assert.equal(await cache.get("a", "n", encode("A4")), "A", "a survived");
  assert.equal(await cache.get("b", "n", encode("B2")), "B2", "b was evicted");
  assert.equal(encodes, 4);
});

test("text cache keys on both texts and forgets failed encodings", async () => {
  const cache = new TextCache<string>(4);
  await assert.rejects(
    cache.get("p", "", () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.size, 0);
  assert.equal(await cache.get("p", "", () => Promise.resolve("ok")), "ok");
  assert.equal(await cache.get("p", "x", () => Promise.resolve("other")), "other");
});
