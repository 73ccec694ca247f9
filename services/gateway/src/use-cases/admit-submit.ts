import type { Logger } from "@t2v/common/logger";
import type { Admission } from "../adapters/admission.js";
import type { ChargeDailyQuota } from "./charge-daily-quota.js";

export interface AdmitSubmitDeps {
  /** A place in the tenant's queue (QUOTA_EXCEEDED past its tier's limit). */
  admitQueued: Admission;
  /** The day's count and the stored-task cap (DAILY_QUOTA_EXCEEDED, STORED_TASKS_EXCEEDED). */
  chargeDailyQuota: ChargeDailyQuota;
  log: Pick<Logger, "warn">;
}

/**
 * Admission of a new task: the queue check and the daily count at once, each
 * a compare-and-swap shared by the replicas, neither waiting for the other.
 * A submit refused by one gives back what the other took: a place, or the
 * day's count (a task refused for a full queue does not spend the quota).
 * When both refuse, the queue's refusal is the answer.
 */
export function admitSubmitUseCase(deps: AdmitSubmitDeps): Admission {
  return async (tenantId, tier) => {
    const [place, charge] = await Promise.allSettled([
      deps.admitQueued(tenantId, tier),
      deps.chargeDailyQuota(tenantId, tier),
    ]);
    if (charge.status === "rejected") {
      if (place.status === "fulfilled") place.value.release();
      throw place.status === "rejected" ? place.reason : charge.reason;
    }
    if (place.status === "rejected") {
      await charge.value
        .refund()
        .catch((err: unknown) =>
          deps.log.warn({ err, tenant_id: tenantId }, "daily task count not given back for a refused submit"),
        );
      throw place.reason;
    }
    return place.value;
  };
}
