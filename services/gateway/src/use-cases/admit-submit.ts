import type { Logger } from "@t2v/common/logger";
import type { Admission } from "../adapters/admission.js";
import type { ChargeDailyQuota } from "./charge-daily-quota.js";
import type { CheckVideoBytes } from "./check-video-bytes.js";

export interface AdmitSubmitDeps {
  /** A place in the tenant's queue (QUOTA_EXCEEDED past its tier's limit). */
  admitQueued: Admission;
  /** The day's count and the stored-task cap (DAILY_QUOTA_EXCEEDED, STORED_TASKS_EXCEEDED). */
  chargeDailyQuota: ChargeDailyQuota;
  /** The stored-video byte cap (VIDEO_BYTES_EXCEEDED); takes nothing. */
  checkVideoBytes: CheckVideoBytes;
  log: Pick<Logger, "warn">;
}

/**
 * Admission of a new task: the queue check, the daily count and the byte cap
 * at once, the first two a compare-and-swap shared by the replicas, the third
 * a cached read, none waiting for another. A submit refused by one gives back
 * what the others took: a place, or the day's count (a task refused for a
 * full queue or a full byte cap does not spend the quota). When several
 * refuse, the queue's refusal is the answer, then the daily count's.
 */
export function admitSubmitUseCase(deps: AdmitSubmitDeps): Admission {
  return async (tenantId, tier) => {
    const [place, charge, bytes] = await Promise.allSettled([
      deps.admitQueued(tenantId, tier),
      deps.chargeDailyQuota(tenantId, tier),
      deps.checkVideoBytes(tenantId, tier),
    ]);
    const refusal = [place, charge, bytes].find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (!refusal && place.status === "fulfilled") return place.value;
    if (place.status === "fulfilled") place.value.release();
    if (charge.status === "fulfilled") {
      await charge.value
        .refund()
        .catch((err: unknown) =>
          deps.log.warn({ err, tenant_id: tenantId }, "daily task count not given back for a refused submit"),
        );
    }
    throw refusal?.reason;
  };
}
