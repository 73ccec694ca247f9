import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { LeaderLeaseSchema } from "../gen/t2v/internal/v1/scheduler_state_pb.js";
import type { BucketSpec, Bus } from "./bus/bus.js";
import { lazy } from "./lazy.js";

/** The scheduler's leader lease: one key, compare-and-swap. */
export const LEADER_LEASE_BUCKET: BucketSpec = { name: "t2v_leader_lease", ttlMs: 0, history: 1 };

const KEY = "leader";

export interface LeaderLease {
  /** True when this replica holds the lease after the call. */
  tryAcquire(now?: number): Promise<boolean>;
  /** "lost" when another replica holds it now; "error" when NATS did not answer (it may still be ours until it expires). */
  renew(now?: number): Promise<"renewed" | "lost" | "error">;
  release(): Promise<void>;
  /**
   * When the lease that kept the last tryAcquire from succeeding runs out (by its holder's clock,
   * as that compares expiry with the caller's), or null: a standby tries again then rather than a
   * poll later.
   */
  heldUntil(): number | null;
  /**
   * The term of the lease this replica holds: the lease entry's revision when it was taken.
   * Revisions only grow, so a later term is always a larger number.
   */
  term(): bigint;
}

/**
 * A replica holds the lease while it renews it before expiry; another takes
 * it over once it expires. Only the holder dispatches.
 */
export function leaderLease(bus: Bus, holder: string, leaseMs: number): LeaderLease {
  const kv = lazy(() => bus.kv(LEADER_LEASE_BUCKET));
  let revision = 0;
  let term = 0n;
  let otherUntil: number | null = null;
  const value = (now: number) =>
    toBinary(LeaderLeaseSchema, create(LeaderLeaseSchema, { holder, expireTime: timestampFromMs(now + leaseMs) }));

  return {
    async tryAcquire(now = Date.now()) {
      otherUntil = null;
      try {
        const bucket = await kv();
        const e = await bucket.get(KEY);
        if (!e) {
          const created = await bucket.create(KEY, value(now));
          if (created === null) return false;
          revision = created;
          term = BigInt(created);
          return true;
        }
        const lease = fromBinary(LeaderLeaseSchema, e.value);
        const expired = !lease.expireTime || timestampMs(lease.expireTime) < now;
        if (lease.holder !== holder && !expired) {
          otherUntil = lease.expireTime ? timestampMs(lease.expireTime) : null;
          return false;
        }
        const updated = await bucket.update(KEY, value(now), e.revision);
        if (updated === null) return false;
        // Re-taking a lease this replica still held keeps its term.
        if (lease.holder !== holder || term === 0n) term = BigInt(updated);
        revision = updated;
        return true;
      } catch {
        return false;
      }
    },
    async renew(now = Date.now()) {
      try {
        const updated = await (await kv()).update(KEY, value(now), revision);
        if (updated === null) return "lost";
        revision = updated;
        return "renewed";
      } catch {
        return "error";
      }
    },
    async release() {
      await (await kv()).delete(KEY, revision).catch(() => undefined);
      term = 0n;
    },
    term: () => term,
    heldUntil: () => otherUntil,
  };
}
