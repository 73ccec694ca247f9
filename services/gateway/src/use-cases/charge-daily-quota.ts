import type { DailyTaskCounts } from "@t2v/common/channels";
import type { Tier } from "@t2v/common/task";
import { dailyQuotaExceeded } from "../domain/daily-quota.js";

/** Counts one new task against the tenant's daily quota, or refuses it (RESOURCE_EXHAUSTED). */
export type ChargeDailyQuota = (tenantId: string, tier: Tier) => Promise<void>;

export interface ChargeDailyQuotaDeps {
  counts: DailyTaskCounts;
  /** Tasks per tenant per UTC day, by tier. */
  quota: Record<Tier, number>;
  now: () => number;
  onRefused?: (tier: Tier) => void;
}

/**
 * Every task a tenant creates counts at submit time, whatever becomes of it:
 * a result-cache hit that needs no GPU, a task cancelled a moment later, and
 * a rerun all take one. An idempotent replay of an earlier request does not
 * (it creates nothing). A refused submission is not counted.
 */
export function chargeDailyQuotaUseCase(deps: ChargeDailyQuotaDeps): ChargeDailyQuota {
  return async (tenantId, tier) => {
    const now = deps.now();
    const limit = deps.quota[tier];
    const taken = await deps.counts.take(tenantId, now, limit);
    if (taken.kind === "refused") {
      deps.onRefused?.(tier);
      throw dailyQuotaExceeded(tenantId, tier, limit, now);
    }
  };
}
