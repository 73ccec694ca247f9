import type { QueueStats } from "@t2v/common/channels";
import type { Tier } from "@t2v/common/task";
import { GatewayErrorCode } from "../domain/error-codes.js";
import { retryLater } from "../domain/rpc-errors.js";

/** How long a refused tenant is told to wait: a queued task takes about this long to start. */
const RETRY_AFTER_MS = 30_000;

export type Admission = (tenantId: string, tier: Tier) => Promise<void>;

/**
 * Refuses new work from a tenant whose queue (as last written by the
 * scheduler) is at its tier's limit. A tenant the scheduler has not written
 * about has nothing queued.
 */
export function createAdmission(stats: QueueStats, maxQueued: Record<Tier, number>): Admission {
  return async (tenantId, tier) => {
    const queued = (await stats.read(tenantId))?.queued ?? 0;
    if (queued >= maxQueued[tier])
      throw retryLater(
        `too many queued tasks (${queued}; the ${tier} tier allows ${maxQueued[tier]})`,
        RETRY_AFTER_MS,
        undefined,
        GatewayErrorCode.quotaExceeded,
      );
  };
}
