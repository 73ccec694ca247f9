import type { KvCache } from "@t2v/common/channels";
import type { TenantQueueStats } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { Tier } from "@t2v/common/task";
import { GatewayErrorCode } from "../domain/error-codes.js";
import { retryLater } from "../domain/rpc-errors.js";

/** How long a refused tenant is told to wait: a queued task takes about this long to start. */
const RETRY_AFTER_MS = 30_000;
/**
 * A stats write this long after a submit was acknowledged includes it: the
 * scheduler writes the stats of a changed tenant every second
 * (services/scheduler/src/use-cases/run-leader-term.ts) and takes a
 * submission within milliseconds of its publish.
 */
export const SETTLE_MS = 1_500;
/** A submit is counted at most this long, should no stats write come (the scheduler away, or the tenant's queue unchanged since). */
export const PENDING_MAX_MS = 10_000;

/** A place in the tenant's queue, taken before the submit's writes. */
export interface Reservation {
  /** The submit is durable: it stays counted until the scheduler's stats include it. */
  confirm(): void;
  /** The submit failed: the place is given back. */
  release(): void;
}

export type Admission = (tenantId: string, tier: Tier) => Promise<Reservation>;

interface Pending {
  /** Reservations whose submit is still being written. */
  writing: number;
  /** Acknowledgement times of submits the scheduler's stats may not count yet, oldest first. */
  confirmed: number[];
  stopListening: () => void;
}

/**
 * Refuses new work from a tenant whose queue is at its tier's limit: the
 * queue as last written by the scheduler (from a watched in-memory cache, no
 * read per submit), plus this gateway's own submits the scheduler has not
 * counted yet, so a burst cannot overshoot between two stats writes. A tenant
 * the scheduler has not written about has nothing queued.
 */
export function createAdmission(
  stats: Pick<KvCache<TenantQueueStats>, "get" | "onChange">,
  maxQueued: Record<Tier, number>,
  now: () => number = Date.now,
): Admission {
  const pending = new Map<string, Pending>();

  const prune = (tenantId: string, p: Pending, settledBefore: number): void => {
    const keepFrom = p.confirmed.findIndex((at) => at > settledBefore);
    if (keepFrom === -1) p.confirmed.length = 0;
    else if (keepFrom > 0) p.confirmed.splice(0, keepFrom);
    if (p.writing === 0 && p.confirmed.length === 0) {
      p.stopListening();
      pending.delete(tenantId);
    }
  };

  const pendingOf = (tenantId: string): Pending => {
    let p = pending.get(tenantId);
    if (!p) {
      const created: Pending = { writing: 0, confirmed: [], stopListening: () => undefined };
      // A stats write counts what was acknowledged SETTLE_MS before it.
      created.stopListening = stats.onChange(tenantId, () => prune(tenantId, created, now() - SETTLE_MS));
      pending.set(tenantId, created);
      p = created;
    }
    return p;
  };

  return async (tenantId, tier) => {
    const queued = (await stats.get(tenantId))?.queued ?? 0;
    // From here to the reservation nothing awaits: concurrent submits see each other's places.
    const p = pending.get(tenantId);
    if (p) prune(tenantId, p, now() - PENDING_MAX_MS);
    const mine = pending.get(tenantId);
    const total = queued + (mine ? mine.writing + mine.confirmed.length : 0);
    if (total >= maxQueued[tier])
      throw retryLater(
        `too many queued tasks (${total}; the ${tier} tier allows ${maxQueued[tier]})`,
        RETRY_AFTER_MS,
        undefined,
        GatewayErrorCode.quotaExceeded,
      );
    const held = pendingOf(tenantId);
    held.writing++;
    let settled = false;
    return {
      confirm() {
        if (settled) return;
        settled = true;
        held.writing--;
        held.confirmed.push(now());
      },
      release() {
        if (settled) return;
        settled = true;
        held.writing--;
        prune(tenantId, held, Number.NEGATIVE_INFINITY);
      },
    };
  };
}
