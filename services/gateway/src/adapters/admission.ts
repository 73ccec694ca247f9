import { ConnectError } from "@connectrpc/connect";
import { type AdmissionPlaces, type KvCache, keyedBatch, keyedSerial } from "@t2v/common/channels";
import type { TenantQueueStats } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { Logger } from "@t2v/common/logger";
import type { Tier } from "@t2v/common/task";
import { GatewayErrorCode } from "../domain/error-codes.js";
import { fitInQueue } from "../domain/queue-places.js";
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

/** Where the places of every gateway replica meet; without it admission counts this replica's only. */
export interface SharedPlaces {
  places: AdmissionPlaces;
  /** This replica's name in the shared entry (unique per process). */
  replicaId: string;
  log: Pick<Logger, "warn">;
}

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
 * read per submit), plus the submits the scheduler has not counted yet, so a
 * burst cannot overshoot between two stats writes. A tenant the scheduler
 * has not written about has nothing queued.
 *
 * The unseen submits are this replica's own (exact, in memory) and, with
 * `shared`, those every other replica publishes in one KV entry per tenant:
 * taking a place is a compare-and-swap on it (run beside the daily quota's),
 * so replicas admitting the same tenant at once see each other's places. The
 * submits of a tenant that arrive while one such write is out take their
 * places together in the next one. A replica rewrites its count when places settle
 * (the scheduler's stats include them) or are given back, off the submit path.
 */
export function createAdmission(
  stats: Pick<KvCache<TenantQueueStats>, "get" | "onChange">,
  maxQueued: Record<Tier, number>,
  now: () => number = Date.now,
  shared?: SharedPlaces,
): Admission {
  const pending = new Map<string, Pending>();
  // One admission batch (and one shared write) per tenant at a time in this process: each sees the places before it.
  const serial = keyedSerial();
  const publishing = new Set<string>();

  const held = (tenantId: string): number => {
    const p = pending.get(tenantId);
    return p ? p.writing + p.confirmed.length : 0;
  };

  /** Rewrites this replica's shared count for the tenant, once for any number of changes that come meanwhile. */
  const publish = (tenantId: string): void => {
    if (!shared || publishing.has(tenantId)) return;
    publishing.add(tenantId);
    void serial(tenantId, async () => {
      publishing.delete(tenantId);
      await shared.places.set(tenantId, shared.replicaId, now(), () => held(tenantId));
    }).catch((err: unknown) =>
      // The entry goes stale in PLACES_STALE_MS: other replicas overcount until then, never under.
      shared.log.warn({ err, tenant_id: tenantId }, "admission places not rewritten"),
    );
  };

  /** Drops submits acknowledged before `settledBefore`; true when any went. */
  const prune = (tenantId: string, p: Pending, settledBefore: number): boolean => {
    const before = p.confirmed.length;
    const keepFrom = p.confirmed.findIndex((at) => at > settledBefore);
    if (keepFrom === -1) p.confirmed.length = 0;
    else if (keepFrom > 0) p.confirmed.splice(0, keepFrom);
    if (p.writing === 0 && p.confirmed.length === 0) {
      p.stopListening();
      pending.delete(tenantId);
    }
    return p.confirmed.length < before;
  };

  const pendingOf = (tenantId: string): Pending => {
    let p = pending.get(tenantId);
    if (!p) {
      const created: Pending = { writing: 0, confirmed: [], stopListening: () => undefined };
      // A stats write counts what was acknowledged SETTLE_MS before it.
      created.stopListening = stats.onChange(tenantId, () => {
        if (prune(tenantId, created, now() - SETTLE_MS)) publish(tenantId);
      });
      pending.set(tenantId, created);
      p = created;
    }
    return p;
  };

  const refuse = (total: number, tier: Tier) =>
    retryLater(
      `too many queued tasks (${total}; the ${tier} tier allows ${maxQueued[tier]})`,
      RETRY_AFTER_MS,
      undefined,
      GatewayErrorCode.quotaExceeded,
    );

  const reserve = (tenantId: string): Reservation => {
    const place = pendingOf(tenantId);
    place.writing++;
    let settled = false;
    return {
      confirm() {
        if (settled) return;
        settled = true;
        place.writing--;
        place.confirmed.push(now());
      },
      release() {
        if (settled) return;
        settled = true;
        place.writing--;
        prune(tenantId, place, Number.NEGATIVE_INFINITY);
        publish(tenantId);
      },
    };
  };

  /** Admits what fits of the submits that arrived together, in order: one shared write for all of them. */
  const takeAll = async (tenantId: string, tiers: Tier[]): Promise<(Reservation | ConnectError)[]> => {
    const queued = (await stats.get(tenantId))?.queued ?? 0;
    const p = pending.get(tenantId);
    if (p) prune(tenantId, p, now() - PENDING_MAX_MS);
    const mine = held(tenantId);
    let fit = fitInQueue(queued + mine, tiers, maxQueued);
    if (shared) {
      // The write carries this replica's count with the new places; nothing else here changes `mine` meanwhile.
      await shared.places.set(tenantId, shared.replicaId, now(), (others) => {
        fit = fitInQueue(queued + mine + others, tiers, maxQueued);
        return fit.count === 0 ? null : mine + fit.count;
      });
    }
    const { admitted, totals } = fit;
    return tiers.map((tier, i) => (admitted[i] ? reserve(tenantId) : refuse(totals[i] ?? 0, tier)));
  };
  const batch = keyedBatch<Tier, Reservation | ConnectError>((tenantId, tiers) =>
    serial(tenantId, () => takeAll(tenantId, tiers)),
  );

  return async (tenantId, tier) => {
    const taken = await batch(tenantId, tier);
    if (taken instanceof ConnectError) throw taken;
    return taken;
  };
}
