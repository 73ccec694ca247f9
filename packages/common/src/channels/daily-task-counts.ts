import type { BucketSpec, Bus } from "./bus/bus.js";
import { casCells } from "./cas-cell.js";
import { DAY_MS } from "./durations.js";
import { keyedBatch } from "./keyed-batch.js";
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

/** Only other replicas contend (one write per key at a time here); this many losses in a row is not contention. */
const MAX_CAS_TRIES = 50;
const text = new TextEncoder();
const untext = new TextDecoder();

export function dailyTaskKey(tenantId: string, atMs: number): string {
  return `${tenantId}.${new Date(Math.floor(atMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** A take (with its limit) or a give-back, in the order they arrived. */
type Change = { limit: number } | "give-back";

const parse = (v: Uint8Array | null) => {
  const n = v ? Number(untext.decode(v)) : 0;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
};

/** The count after `changes`, and each one's answer: a take counts only below its limit, a give-back never goes below 0. */
function apply(count: number, changes: Change[]): { count: number; takes: DailyTake[] } {
  const takes: DailyTake[] = [];
  for (const c of changes) {
    if (c === "give-back") {
      count = Math.max(0, count - 1);
      takes.push({ kind: "counted", count });
    } else if (count >= c.limit) takes.push({ kind: "refused", count });
    else takes.push({ kind: "counted", count: ++count });
  }
  return { count, takes };
}

export function dailyTaskCounts(bus: Bus): DailyTaskCounts {
  const kv = lazy(() => bus.kv(DAILY_TASK_COUNTS_BUCKET));
  const cells = lazy(async () => casCells(await kv(), "daily task count", MAX_CAS_TRIES));
  // A tenant's burst of submits moves its count once per batch, not once per submit in a row.
  const batch = keyedBatch<Change, DailyTake>(async (key, changes) =>
    (await cells()).change(key, (current) => {
      const before = parse(current);
      const { count, takes } = apply(before, changes);
      return { next: count === before ? null : text.encode(String(count)), result: takes };
    }),
  );
  return {
    take: (tenantId, atMs, limit) => batch(dailyTaskKey(tenantId, atMs), { limit }),
    async giveBack(tenantId, atMs) {
      await batch(dailyTaskKey(tenantId, atMs), "give-back");
    },
    async count(tenantId, atMs) {
      const e = await (await kv()).get(dailyTaskKey(tenantId, atMs));
      return parse(e?.value ?? null);
    },
  };
}
