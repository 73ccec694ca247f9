import { setTimeout as delay } from "node:timers/promises";
import type { LeaderLease } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";

export interface LeadershipDeps {
  lease: LeaderLease;
  leaseMs: number;
  log: Logger;
  now: () => number;
  /** One term as leader; runs until its signal aborts. Every write it makes checks `fence` first. */
  runTerm: (signal: AbortSignal, fence: TermFence) => Promise<void>;
  /** Told when a term starts (true) and ends (false). */
  onLeading?: (leading: boolean) => void;
}

/**
 * Whether this replica may still act as leader, asked before every write of
 * its term. False as soon as the term ended, and also when the lease went
 * unrenewed for most of its length: a replica that was stopped (SIGSTOP, a
 * VM pause) and wakes up with timers due refuses their writes before its
 * renewal has even learnt that the lease is gone.
 */
export interface TermFence {
  /** The lease's term: records this term writes carry it, and it never writes over a later one. */
  readonly term: bigint;
  held(): boolean;
  /** Throws NotLeaderError when not held. */
  check(): void;
}

export class NotLeaderError extends Error {
  constructor(why: string) {
    super(`not the leader: ${why}`);
    this.name = "NotLeaderError";
  }
}

/** After a term failed, the next attempt waits this long. */
const TERM_RETRY_DELAY_MS = 1_000;
/** A standby tries for the lease this long after the holder's expiry (which must have passed). */
const EXPIRY_MARGIN_MS = 2;
/** A lease not renewed for this share of its length is given up before it could expire under us. */
const RENEWAL_GRACE_SHARE = 0.8;

/**
 * Only the replica holding the lease dispatches. It renews the lease four
 * times per lease length; a replica that loses it (another took over, or NATS
 * was unreachable for most of the lease) ends its term and stands by again,
 * so two replicas never dispatch at once. Standbys try for the lease three
 * times per lease length, and as soon as the holder's lease runs out. Returns once `signal` aborts
 * and the term has ended.
 */
export async function runLeadership(deps: LeadershipDeps, signal: AbortSignal): Promise<void> {
  const { lease, leaseMs, log } = deps;
  while (!signal.aborted) {
    // The lease runs from when it was asked for, not from when the answer came: a replica stopped
    // (SIGSTOP, a long GC pause) between the two would otherwise count a lease another replica
    // may already have taken over as fresh, and dispatch for most of a lease length after waking.
    const askedAt = deps.now();
    if (!(await lease.tryAcquire(askedAt))) {
      // At the holder's expiry if that comes first: a dead leader's standby takes over then, not up
      // to a third of a lease later.
      const until = lease.heldUntil();
      const untilExpiry = until === null ? Infinity : Math.max(0, until - deps.now()) + EXPIRY_MARGIN_MS;
      await pause(Math.min(leaseMs / 3, untilExpiry), signal);
      continue;
    }
    log.info("leader: this replica dispatches");
    const term = new AbortController();
    const endTerm = (): void => term.abort();
    signal.addEventListener("abort", endTerm, { once: true });
    let renewedAt = askedAt;
    const renewOnce = async (): Promise<void> => {
      const at = deps.now();
      const result = await lease.renew(at);
      if (result === "renewed") renewedAt = Math.max(renewedAt, at);
      if (!term.signal.aborted && (result === "lost" || deps.now() - renewedAt > leaseMs * RENEWAL_GRACE_SHARE)) {
        log.error({ result }, "leader lease lost: standing by");
        term.abort();
      }
    };
    const renewal = setInterval(() => void renewOnce(), leaseMs / 4);
    const held = (): boolean => !term.signal.aborted && deps.now() - renewedAt <= leaseMs * RENEWAL_GRACE_SHARE;
    const fence: TermFence = {
      term: lease.term(),
      held,
      check() {
        if (!held()) throw new NotLeaderError(term.signal.aborted ? "the term ended" : "the lease went unrenewed");
      },
    };
    deps.onLeading?.(true);
    try {
      await deps.runTerm(term.signal, fence);
    } catch (err) {
      log.error({ err }, "leader term failed");
      await pause(TERM_RETRY_DELAY_MS, signal);
    } finally {
      clearInterval(renewal);
      signal.removeEventListener("abort", endTerm);
      deps.onLeading?.(false);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts first. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
