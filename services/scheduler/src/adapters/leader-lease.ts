import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { KV } from "@nats-io/kv";
import { LeaderLeaseSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_state_pb";

const KEY = "leader";

/**
 * Leader election on a KV key with compare-and-swap: a replica holds the lease
 * while it renews it before expiry; another takes it over once it expires.
 * Only the holder dispatches, so two replicas never dispatch one task twice.
 */
export function createLeaderLease(kv: KV, holder: string, leaseMs: number) {
  let revision = 0;
  const value = (now: number) =>
    toBinary(LeaderLeaseSchema, create(LeaderLeaseSchema, { holder, expireTime: timestampFromMs(now + leaseMs) }));

  return {
    /** True when this replica holds the lease after the call. */
    async tryAcquire(now = Date.now()): Promise<boolean> {
      try {
        const e = await kv.get(KEY);
        if (e?.operation !== "PUT") {
          revision = await kv.create(KEY, value(now));
          return true;
        }
        const lease = fromBinary(LeaderLeaseSchema, e.value);
        const expired = !lease.expireTime || timestampMs(lease.expireTime) < now;
        if (lease.holder !== holder && !expired) return false;
        revision = await kv.update(KEY, value(now), e.revision);
        return true;
      } catch {
        return false;
      }
    },
    /**
     * Extends the lease. "lost" when another replica holds it now; "error"
     * when NATS did not answer (the lease may still be ours until it expires).
     */
    async renew(now = Date.now()): Promise<"renewed" | "lost" | "error"> {
      try {
        revision = await kv.update(KEY, value(now), revision);
        return "renewed";
      } catch (err) {
        return /wrong last sequence/i.test(String(err)) ? "lost" : "error";
      }
    },
    async release(): Promise<void> {
      await kv.delete(KEY, { previousSeq: revision }).catch(() => undefined);
    },
  };
}
