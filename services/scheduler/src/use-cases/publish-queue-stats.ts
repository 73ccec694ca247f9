import type { QueueStats } from "@t2v/common/channels";
import type { SchedulerState } from "../domain/state.js";

/**
 * Writes the queue depth of every tenant whose queue changed, for the
 * gateways' admission control. A tenant whose write failed, and those not
 * reached yet, are written next time.
 */
export async function publishQueueStats(state: SchedulerState, stats: Pick<QueueStats, "write">): Promise<void> {
  const tenants = state.takeDirtyTenants();
  for (const [i, tenant] of tenants.entries()) {
    const c = state.counts(tenant);
    try {
      await stats.write(tenant, c.queued, c.running);
    } catch (err) {
      for (const t of tenants.slice(i)) state.markDirty(t);
      throw err;
    }
  }
}
