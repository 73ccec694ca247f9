import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { openApiKeyStore } from "../api-keys/api-key-store.js";
import { openCachedApiKeyStore } from "../api-keys/cached-api-key-store.js";
import type { KvBucket } from "./bus/bus.js";
import { collect, type TestBus } from "./channels-contract-support.js";
import { createKvCache } from "./kv-cache.js";

/** The bucket watch behind the gateway's caches, and the caches on it, against one bus. */
export function describeKvCacheContract(name: string, makeBus: () => Promise<TestBus>): void {
  describe(`KV changes and caches: ${name}`, () => {
    let tb: TestBus;
    beforeEach(async () => {
      tb = await makeBus();
    });
    afterEach(async () => {
      await tb.close();
    });
    const v = (n: number) => new Uint8Array([n]);

    it("changes() hears every key's later changes, with the key, from the moment it resolves", async () => {
      const kv = await tb.bus.kv({ name: "test_changes", ttlMs: 0, history: 1 });
      await kv.put("a", v(1));
      const ac = new AbortController();
      const seen = collect(await kv.changes(ac.signal), 3);
      await kv.put("a", v(2));
      await kv.put("b.c", v(3));
      await kv.delete("a");
      const got = await seen;
      ac.abort();
      assert.deepEqual(
        got.map((c) => [c.key, c.entry ? [...c.entry.value] : null]),
        [
          ["a", [2]],
          ["b.c", [3]],
          ["a", null],
        ],
      );
    });

    it("a cache reads a key once, then from memory, and applies pushed changes and deletes", async () => {
      const kv = await tb.bus.kv({ name: "test_cache", ttlMs: 0, history: 1 });
      // Written before the cache starts, so its change is not heard during the first read (which would then not be kept).
      await kv.put("k", v(1));
      let gets = 0;
      const counted: KvBucket = {
        ...kv,
        get: (k) => {
          gets++;
          return kv.get(k);
        },
      };
      const cache = createKvCache(counted, { decode: (b) => b[0] ?? -1, maxEntries: 2, cacheMissing: true });
      try {
        await cache.ready();
        assert.deepEqual(await Promise.all([cache.get("k"), cache.get("k")]), [1, 1], "one read, shared");
        assert.equal(await cache.get("k"), 1);
        assert.equal(gets, 1);
        assert.equal(await cache.get("none"), null);
        assert.equal(await cache.get("none"), null);
        assert.equal(gets, 2, "a missing key is held too when asked to");
        await kv.put("k", v(2));
        await eventuallyAsync(async () => (await cache.get("k")) === 2);
        await kv.delete("k");
        await eventuallyAsync(async () => (await cache.get("k")) === null);
        assert.equal(gets, 2, "changes come from the watch, not from reads");
        await kv.put("other", v(5));
        assert.equal(await cache.get("other"), 5);
        assert.ok(cache.size() <= 2, "bounded");
      } finally {
        cache.stop();
      }
    });

    it("a change during a read is not lost to the value the read returns", async () => {
      const kv = await tb.bus.kv({ name: "test_cache_race", ttlMs: 0, history: 1 });
      await kv.put("k", v(1));
      // The read answers with the old value after the change was made and pushed.
      const slow: KvBucket = {
        ...kv,
        get: async (k) => {
          const e = await kv.get(k);
          await kv.put("k", v(2));
          await delay(300);
          return e;
        },
      };
      const cache = createKvCache(slow, { decode: (b) => b[0] ?? -1, maxEntries: 10, cacheMissing: false });
      try {
        await cache.ready();
        assert.equal(await cache.get("k"), 1, "the read's own answer");
        assert.equal(cache.size(), 0, "not kept: a change came while it was read");
      } finally {
        cache.stop();
      }
    });

    it("a revoked API key is refused by the gateway's cached store within a second, and its streams hear it", async () => {
      const cli = await openApiKeyStore(tb.bus);
      const gateway = await openCachedApiKeyStore(tb.bus, 100);
      try {
        await gateway.cache.ready();
        const { key, record } = await cli.create({ tenantId: "acme", tier: "standard" });
        assert.equal((await gateway.verify(key))?.tenantId, "acme");
        assert.equal(await gateway.verify(`${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`), null, "wrong secret");
        assert.equal(gateway.cache.size(), 1, "held");
        const ac = new AbortController();
        const heard = gateway.revoked(record.prefix, ac.signal);
        assert.equal(await cli.revoke(record.prefix), true);
        // The promise of the issue: a call a second after the revocation is refused.
        await delay(1_000);
        assert.equal(await gateway.verify(key), null);
        assert.equal(await heard, true);
        assert.equal(await gateway.revoked(record.prefix, ac.signal), true, "at once when already revoked");
        const other = await cli.create({ tenantId: "acme", tier: "standard" });
        const quiet = new AbortController();
        const pending = gateway.revoked(other.record.prefix, quiet.signal);
        quiet.abort();
        assert.equal(await pending, false, "false when the signal aborts first");
      } finally {
        gateway.stop();
      }
    });
  });
}

async function eventuallyAsync(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await delay(20);
  }
}
