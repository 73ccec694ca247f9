import type { Tier } from "@t2v/common/task";
import type { StoredVideoBytes } from "../adapters/video-bytes-window.js";
import { mayStoreMore, videoBytesExceeded } from "../domain/video-bytes-quota.js";

/** Refuses a new task (RESOURCE_EXHAUSTED) while the tenant's stored videos reach its tier's byte cap; takes nothing. */
export type CheckVideoBytes = (tenantId: string, tier: Tier) => Promise<void>;

export interface CheckVideoBytesDeps {
  /** Bytes of videos and posters a tenant may hold, by tier. */
  capBytes: Record<Tier, number>;
  /** The tenant's counted bytes in the window (cached: no read per submit). */
  stored: StoredVideoBytes;
  /** Today plus this many days before it. */
  windowPastDays: number;
  now: () => number;
  onRefused?: (tier: Tier) => void;
}

/**
 * The videos store is shared by every tenant: one that keeps finishing tasks
 * would fill it and leave the others' results nowhere to go. A tenant whose
 * results (counted when each task completes, taken back when one is deleted
 * or expires) reach its tier's cap creates no more tasks until some leave.
 */
export function checkVideoBytesUseCase(deps: CheckVideoBytesDeps): CheckVideoBytes {
  return async (tenantId, tier) => {
    const cap = deps.capBytes[tier];
    const stored = await deps.stored(tenantId);
    if (mayStoreMore(stored, cap)) return;
    deps.onRefused?.(tier);
    throw videoBytesExceeded(tenantId, tier, cap, stored, deps.windowPastDays + 1, deps.now());
  };
}
