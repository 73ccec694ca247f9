import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { type TenantQueueStats, TenantQueueStatsSchema } from "../gen/t2v/internal/v1/scheduler_queries_pb.js";
import type { BucketSpec, Bus } from "./bus/bus.js";
import { HOUR_MS } from "./durations.js";
import { createKvCache, type KvCache } from "./kv-cache.js";
import { lazy } from "./lazy.js";

/** Tenant id -> TenantQueueStats, written by the leading scheduler, read by gateways for admission. */
export const QUEUE_STATS_BUCKET: BucketSpec = { name: "t2v_queue_stats", ttlMs: 24 * HOUR_MS, history: 1 };

export interface QueueStats {
  write(tenantId: string, queued: number, running: number): Promise<void>;
  /** null when the scheduler has written nothing about the tenant (nothing queued). */
  read(tenantId: string): Promise<TenantQueueStats | null>;
  /** The stats of up to `maxTenants` recently read tenants, kept current by one watch of the bucket. */
  cache(maxTenants: number): Promise<KvCache<TenantQueueStats>>;
}

export function queueStats(bus: Bus): QueueStats {
  const kv = lazy(() => bus.kv(QUEUE_STATS_BUCKET));
  return {
    async write(tenantId, queued, running) {
      const stats = create(TenantQueueStatsSchema, { tenantId, queued, running, updateTime: timestampNow() });
      await (await kv()).put(tenantId, toBinary(TenantQueueStatsSchema, stats));
    },
    async read(tenantId) {
      const e = await (await kv()).get(tenantId);
      return e ? fromBinary(TenantQueueStatsSchema, e.value) : null;
    },
    async cache(maxTenants) {
      return createKvCache(await kv(), {
        decode: (v) => fromBinary(TenantQueueStatsSchema, v),
        maxEntries: maxTenants,
        // Most tenants have nothing queued, and no entry: that is worth keeping too.
        cacheMissing: true,
      });
    },
  };
}
