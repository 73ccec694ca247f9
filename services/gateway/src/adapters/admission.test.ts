import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { channels, createMemoryBus } from "@t2v/common/channels";
import { type TenantQueueStats, TenantQueueStatsSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { silentLog } from "../testing/gateway-fixture.js";
import { createAdmission, PENDING_MAX_MS, SETTLE_MS } from "./admission.js";

const LIMITS = { vip: 10, standard: 3, batch: 10 };

/** Stats as a watched cache holds them, written by the test as the scheduler would. */
function fakeStats() {
  const values = new Map<string, TenantQueueStats>();
  const listeners = new Map<string, Set<(v: TenantQueueStats | null) => void>>();
  return {
    get: async (tenantId: string) => values.get(tenantId) ?? null,
    onChange(tenantId: string, fn: (v: TenantQueueStats | null) => void) {
      const set = listeners.get(tenantId) ?? new Set();
      listeners.set(tenantId, set);
      set.add(fn);
      return () => set.delete(fn);
    },
    write(tenantId: string, queued: number) {
      const v = create(TenantQueueStatsSchema, { tenantId, queued });
      values.set(tenantId, v);
      for (const fn of listeners.get(tenantId) ?? []) fn(v);
    },
    listening: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
}

const refused = async (p: Promise<unknown>): Promise<boolean> => {
  try {
    await p;
    return false;
  } catch (err) {
    assert.ok(err instanceof ConnectError && err.code === Code.ResourceExhausted, String(err));
    return true;
  }
};

describe("createAdmission", () => {
  it("counts its own submits the scheduler has not counted yet: a burst stops at the limit", async () => {
    const stats = fakeStats();
    let t = 0;
    const admit = createAdmission(stats, LIMITS, () => t);
    stats.write("acme", 1);
    const burst = await Promise.allSettled([1, 2, 3, 4].map(() => admit("acme", "standard")));
    assert.deepEqual(
      burst.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "rejected"],
      "1 queued + 2 places = 3",
    );
    for (const r of burst) if (r.status === "fulfilled") r.value.confirm();
    assert.ok(await refused(admit("acme", "standard")));
    // A stats write soon after the submits may not include them: they stay counted.
    t += 100;
    stats.write("acme", 1);
    assert.ok(await refused(admit("acme", "standard")));
    // One that came SETTLE_MS later does: the scheduler's count alone decides.
    t += SETTLE_MS;
    stats.write("acme", 2);
    (await admit("acme", "standard")).release();
    assert.equal(stats.listening(), 0, "nothing pending: no listener left");
    // Other tenants and tiers are their own.
    (await admit("other", "standard")).confirm();
    stats.write("acme", 9);
    (await admit("acme", "vip")).release();
  });

  it("gives a failed submit's place back, and forgets unconfirmed-by-stats submits after a while", async () => {
    const stats = fakeStats();
    let t = 0;
    const admit = createAdmission(stats, LIMITS, () => t);
    const places = await Promise.all([1, 2, 3].map(() => admit("acme", "standard")));
    assert.ok(await refused(admit("acme", "standard")));
    places[0]?.release();
    places[0]?.release();
    (await admit("acme", "standard")).confirm();
    places[1]?.confirm();
    places[2]?.confirm();
    assert.ok(await refused(admit("acme", "standard")));
    // No stats write came (the scheduler away): after PENDING_MAX_MS the scheduler's count is trusted again.
    t += PENDING_MAX_MS + 1;
    (await admit("acme", "standard")).release();
  });

  it("reads the scheduler's stats from a watched cache of the bucket", async () => {
    const bus = createMemoryBus();
    const qs = channels(bus).queueStats;
    const cache = await qs.cache(100);
    try {
      await cache.ready();
      const admit = createAdmission(cache, LIMITS);
      await qs.write("acme", 3, 0);
      assert.ok(await refused(admit("acme", "standard")));
      await qs.write("acme", 2, 0);
      (await admit("acme", "standard")).release();
    } finally {
      cache.stop();
      await bus.close();
    }
  });

  describe("with the places of every replica (one KV entry per tenant)", () => {
    const replicas = (bus: ReturnType<typeof createMemoryBus>, stats: ReturnType<typeof fakeStats>, t: () => number) =>
      ["gw-a", "gw-b"].map((replicaId) =>
        createAdmission(stats, LIMITS, t, { places: channels(bus).admissionPlaces, replicaId, log: silentLog }),
      );

    /** Until the replicas' rewrites of their counts have landed (they run off the submit path). */
    const othersBecome = async (bus: ReturnType<typeof createMemoryBus>, n: number, at: number) => {
      const places = channels(bus).admissionPlaces;
      for (let i = 0; i < 1_000; i++) {
        if ((await places.others("acme", "observer", at)) === n) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.fail(`the replicas' places did not become ${n}`);
    };

    it("a burst across two replicas stops at the limit", async () => {
      const bus = createMemoryBus();
      const stats = fakeStats();
      const [a, b] = replicas(bus, stats, () => 0);
      assert.ok(a && b);
      const burst = await Promise.allSettled([a, b, a, b, a, b, a, b].map((admit) => admit("acme", "standard")));
      assert.equal(burst.filter((r) => r.status === "fulfilled").length, 3, "3 places in all, not 3 per replica");
      for (const r of burst) if (r.status === "fulfilled") r.value.confirm();
      assert.ok(await refused(a("acme", "standard")));
      assert.ok(await refused(b("acme", "standard")));
      await bus.close();
    });

    it("a burst on one replica takes its places in a few shared writes, not one per submit in a row", async () => {
      const bus = createMemoryBus();
      const stats = fakeStats();
      const inner = channels(bus).admissionPlaces;
      let writes = 0;
      const places = {
        ...inner,
        set: (...args: Parameters<typeof inner.set>) => {
          writes++;
          return inner.set(...args);
        },
      };
      const admit = createAdmission(stats, { ...LIMITS, vip: 100 }, () => 0, {
        places,
        replicaId: "gw-a",
        log: silentLog,
      });
      const burst = await Promise.all(Array.from({ length: 40 }, () => admit("acme", "vip")));
      assert.equal(burst.length, 40);
      assert.ok(writes <= 2, `${writes} shared writes for 40 submits`);
      assert.equal(await inner.others("acme", "observer", 0), 40);
      await bus.close();
    });

    it("gives places back across replicas: on a failed submit, and once the scheduler's stats count them", async () => {
      const bus = createMemoryBus();
      const stats = fakeStats();
      let t = 0;
      const [a, b] = replicas(bus, stats, () => t);
      assert.ok(a && b);
      const first = await a("acme", "standard");
      (await a("acme", "standard")).confirm();
      (await b("acme", "standard")).confirm();
      assert.ok(await refused(b("acme", "standard")));
      first.release();
      await othersBecome(bus, 2, t);
      const again = await b("acme", "standard");
      again.confirm();
      assert.ok(await refused(a("acme", "standard")));
      // The scheduler counts the three SETTLE_MS later: each replica drops its own and says so.
      t += SETTLE_MS + 1;
      stats.write("acme", 3);
      await othersBecome(bus, 0, t);
      assert.ok(await refused(a("acme", "standard")), "3 queued");
      stats.write("acme", 2);
      (await a("acme", "standard")).release();
      await bus.close();
    });
  });
});
