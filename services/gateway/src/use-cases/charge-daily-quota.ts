import type { DailyTaskCounts } from "@t2v/common/channels";
import type { Tier } from "@t2v/common/task";
import type { TasksStoredBefore } from "../adapters/stored-task-window.js";
import { dailyQuotaExceeded } from "../domain/daily-quota.js";
import { roomToday, storedTasksExceeded } from "../domain/stored-task-quota.js";

/** What a charge can do afterwards: give the task back, when a check run beside it refused the submit. */
export interface DailyCharge {
  refund(): Promise<void>;
}

/** Counts one new task against the tenant's daily quota and stored-task cap, or refuses it (RESOURCE_EXHAUSTED). */
export type ChargeDailyQuota = (tenantId: string, tier: Tier) => Promise<DailyCharge>;

export interface StoredTaskCap {
  /** Tasks a tenant may hold in the window, by tier. */
  limit: Record<Tier, number>;
  /** The window's days before today, summed (cached: no read per submit). */
  before: TasksStoredBefore;
  /** Today plus this many days before it. */
  windowPastDays: number;
}

export interface ChargeDailyQuotaDeps {
  counts: DailyTaskCounts;
  /** Tasks per tenant per UTC day, by tier. */
  quota: Record<Tier, number>;
  /** Tasks per tenant in the retention window; none: only the daily quota. */
  stored?: StoredTaskCap;
  now: () => number;
  onRefused?: (tier: Tier, limit: "daily" | "stored") => void;
}

/**
 * Every task a tenant creates counts at submit time, whatever becomes of it:
 * a result-cache hit that needs no GPU, a task cancelled a moment later, and
 * a rerun all take one. An idempotent replay of an earlier request does not
 * (it creates nothing). A refused submission is not counted.
 *
 * The stored-task cap rides on the same count: the window's earlier days are
 * fixed (read from the task lists and kept), so today's take is limited to
 * the smaller of the daily quota and the cap's room left, and one
 * compare-and-swap, shared by every replica, enforces both.
 */
export function chargeDailyQuotaUseCase(deps: ChargeDailyQuotaDeps): ChargeDailyQuota {
  return async (tenantId, tier) => {
    const now = deps.now();
    const daily = deps.quota[tier];
    const stored = deps.stored;
    const room = stored ? roomToday(stored.limit[tier], await stored.before(tenantId, now)) : daily;
    const taken = await deps.counts.take(tenantId, now, Math.min(daily, room));
    if (taken.kind === "counted") return { refund: () => deps.counts.giveBack(tenantId, now) };
    if (taken.count >= daily || !stored) {
      deps.onRefused?.(tier, "daily");
      throw dailyQuotaExceeded(tenantId, tier, daily, now);
    }
    deps.onRefused?.(tier, "stored");
    throw storedTasksExceeded(tenantId, tier, stored.limit[tier], stored.windowPastDays + 1, now);
  };
}
