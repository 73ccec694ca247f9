import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { type AttemptClaim, AttemptClaimSchema } from "../gen/t2v/internal/v1/attempt_claim_pb.js";
import type { BucketSpec, Bus, KvBucket } from "./bus/bus.js";
import { DAY_MS } from "./durations.js";
import { lazy } from "./lazy.js";

/**
 * "<stage>.<task_id>.<attempt>" -> AttemptClaim. Kept a day longer than the
 * job streams keep a message (7 days), so a claim outlives every duplicate of
 * its job.
 */
export const ATTEMPT_CLAIMS_BUCKET: BucketSpec = { name: "t2v_attempt_claims", ttlMs: 8 * DAY_MS, history: 1 };

/** What a worker found when it tried to claim an attempt. */
export type ClaimResult =
  | { readonly kind: "claimed"; readonly claim: HeldClaim }
  /** The attempt already ended: the delivery is a duplicate. */
  | { readonly kind: "done" }
  /** Another live worker holds it: the delivery is a duplicate while it lives. */
  | { readonly kind: "held"; readonly holder: string; readonly leaseUntilMs: number };

/** A claim this process holds; every write is a compare-and-swap on the revision it last wrote. */
export interface HeldClaim {
  /**
   * Extends the lease. False when the claim was taken over (this holder went
   * a whole lease without renewing): the attempt is no longer this worker's,
   * and it must not write its outputs.
   */
  renew(): Promise<boolean>;
  /** Marks the attempt ended, so no later delivery runs it again. False when it was taken over first. */
  complete(): Promise<boolean>;
  /** Gives the attempt up unfinished (handed back): the next worker may take it at once. */
  release(): Promise<void>;
}

export interface AttemptClaims {
  /**
   * Claims `stage` of a task attempt for `holder` for `leaseMs`: creates the
   * claim, or takes over one whose lease ran out or that `holder` itself
   * left (a job handed back and delivered to the same process again).
   */
  claim(stage: string, taskId: string, attempt: number, holder: string, leaseMs: number): Promise<ClaimResult>;
}

/** A holder name unique to this process (and to each app started in it): "<worker id>/<nonce>". */
export function claimHolder(workerId: string): string {
  return `${workerId}/${randomUUID().slice(0, 8)}`;
}

export function attemptClaimKey(stage: string, taskId: string, attempt: number): string {
  return `${stage}.${taskId}.${attempt}`;
}

/** Whether `holder` may take a claim that exists: pure, so the rule is tested on its own. */
export function mayTakeOver(existing: AttemptClaim, holder: string, nowMs: number): "take" | "done" | "held" {
  if (existing.done) return "done";
  if (existing.holder === holder) return "take";
  const until = existing.leaseUntil ? timestampMs(existing.leaseUntil) : 0;
  return nowMs >= until ? "take" : "held";
}

const MAX_TRIES = 5;

export function attemptClaims(bus: Bus, now: () => number = Date.now): AttemptClaims {
  const kv = lazy(() => bus.kv(ATTEMPT_CLAIMS_BUCKET));
  const encode = (c: AttemptClaim): Uint8Array => toBinary(AttemptClaimSchema, c);
  const value = (holder: string, leaseMs: number, done = false): AttemptClaim =>
    create(AttemptClaimSchema, { holder, leaseUntil: timestampFromMs(now() + leaseMs), done });

  function held(bucket: KvBucket, key: string, holder: string, leaseMs: number, revision: number): HeldClaim {
    let rev = revision;
    let lost = false;
    // One write at a time: two renewals racing on the same revision would fence each other out.
    let queue: Promise<unknown> = Promise.resolve();
    const serial = <T>(fn: () => Promise<T>): Promise<T> => {
      const next = queue.then(fn, fn);
      queue = next.catch(() => undefined);
      return next;
    };
    const tryWrite = async (next: AttemptClaim): Promise<boolean> => {
      for (let i = 0; i < MAX_TRIES && !lost; i++) {
        const written = await bucket.update(key, encode(next), rev);
        if (written !== null) {
          rev = written;
          return true;
        }
        // Refused: another holder took over, or a write of ours that timed out did land after all.
        const e = await bucket.get(key);
        const current = e ? fromBinary(AttemptClaimSchema, e.value) : null;
        if (!e || !current || current.holder !== holder || current.done) lost = true;
        else rev = e.revision;
      }
      return false;
    };
    const write = (next: () => AttemptClaim): Promise<boolean> => serial(() => tryWrite(next()));
    return {
      renew: () => write(() => value(holder, leaseMs)),
      complete: () => write(() => value(holder, 0, true)),
      release: () =>
        serial(async () => {
          if (!lost) await bucket.delete(key, rev).catch(() => undefined);
          lost = true;
        }),
    };
  }

  return {
    async claim(stage, taskId, attempt, holder, leaseMs) {
      const bucket = await kv();
      const key = attemptClaimKey(stage, taskId, attempt);
      for (let i = 0; i < MAX_TRIES; i++) {
        // Most attempts are claimed once: try the create first, one round trip, and read only when it exists.
        const created = await bucket.create(key, encode(value(holder, leaseMs)));
        if (created !== null) return { kind: "claimed", claim: held(bucket, key, holder, leaseMs, created) };
        const e = await bucket.get(key);
        if (!e) continue; // released meanwhile: create again
        const existing = fromBinary(AttemptClaimSchema, e.value);
        const verdict = mayTakeOver(existing, holder, now());
        if (verdict === "done") return { kind: "done" };
        if (verdict === "held") {
          const leaseUntilMs = existing.leaseUntil ? timestampMs(existing.leaseUntil) : 0;
          return { kind: "held", holder: existing.holder, leaseUntilMs };
        }
        const rev = await bucket.update(key, encode(value(holder, leaseMs)), e.revision);
        if (rev !== null) return { kind: "claimed", claim: held(bucket, key, holder, leaseMs, rev) };
      }
      throw new Error(`attempt ${attemptClaimKey(stage, taskId, attempt)}: too much contention on its claim`);
    },
  };
}
