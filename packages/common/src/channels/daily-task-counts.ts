import type { BucketSpec, Bus } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { casBackoff, keyedSerial } from "./keyed-serial.js";
import { lazy } from "./lazy.js";

/**
 * "<tenant>.<yyyymmdd>" -> tasks the tenant submitted that UTC day (decimal),
 * counted by every gateway replica with compare-and-swap. Kept two days: a
 * day's count is read only on that day.
 */
export const DAILY_TASK_COUNTS_BUCKET: BucketSpec = { name: "t2v_daily_task_counts", ttlMs: 2 * DAY_MS, history: 1 };

export type DailyTake = { kind: "counted"; count: number } | { kind: "refused"; count: number };

export interface DailyTaskCounts {
  /** Counts one task for the tenant's UTC day of `atMs`, unless the day's count has reached `limit`. */
  take(tenantId: string, atMs: number, limit: number): Promise<DailyTake>;
  /**
   * Gives back one task taken for the UTC day of `atMs` (never below 0): a
   * submit refused by a check that ran beside the take (the queue limit).
   */
  giveBack(tenantId: string, atMs: number): Promise<void>;
  /** The tenant's count for the UTC day of `atMs`. */
  count(tenantId: string, atMs: number): Promise<number>;
}

/** One take per tenant at a time per process, so only replicas contend; this many losses in a row is not contention. */
const MAX_CAS_TRIES = 50;
const text = new TextEncoder();
const untext = new TextDecoder();

export function dailyTaskKey(tenantId: string, atMs: number): string {
  return `${tenantId}.${new Date(Math.floor(atMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

export function dailyTaskCounts(bus: Bus): DailyTaskCounts {
  const kv = lazy(() => bus.kv(DAILY_TASK_COUNTS_BUCKET));
  const serial = keyedSerial();
  const parse = (v: Uint8Array) => {
    const n = Number(untext.decode(v));
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  };
  return {
    async take(tenantId, atMs, limit) {
      const b = await kv();
      const key = dailyTaskKey(tenantId, atMs);
      return serial(key, async (): Promise<DailyTake> => {
        for (let i = 0; i < MAX_CAS_TRIES; i++) {
          const e = await b.get(key);
          const count = e ? parse(e.value) : 0;
          if (count >= limit) return { kind: "refused", count };
          const value = text.encode(String(count + 1));
          const written = e ? await b.update(key, value, e.revision) : await b.create(key, value);
          if (written !== null) return { kind: "counted", count: count + 1 };
          await casBackoff(i);
        }
        throw new Error(`${key}: too much contention on the daily task count`);
      });
    },
    async giveBack(tenantId, atMs) {
      const b = await kv();
      const key = dailyTaskKey(tenantId, atMs);
      await serial(key, async () => {
        for (let i = 0; i < MAX_CAS_TRIES; i++) {
          const e = await b.get(key);
          const count = e ? parse(e.value) : 0;
          if (!e || count === 0) return;
          if ((await b.update(key, text.encode(String(count - 1)), e.revision)) !== null) return;
          await casBackoff(i);
        }
        throw new Error(`${key}: too much contention on the daily task count`);
      });
    },
    async count(tenantId, atMs) {
      const e = await (await kv()).get(dailyTaskKey(tenantId, atMs));
      return e ? parse(e.value) : 0;
    },
  };
}
