import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LeaderLease } from "@t2v/common/channels";
import { createLogger } from "@t2v/common/logger";
import { waitUntil } from "../testing/wait-until.js";
import { NotLeaderError, runLeadership, type TermFence } from "./leadership.js";

const log = createLogger("scheduler", "silent");
const LEASE_MS = 200;

/** A lease that is always acquired and renews with the answers given, then "renewed". */
function fakeLease(renewals: ("renewed" | "lost" | "error")[]): LeaderLease & { acquired: number } {
  return {
    acquired: 0,
    async tryAcquire() {
      this.acquired++;
      return true;
    },
    async renew() {
      return renewals.shift() ?? "renewed";
    },
    async release() {},
    term: () => 7n,
    heldUntil: () => null,
  };
}

/** Runs leadership until `terms` terms have started, then stops it; returns how each term ended. */
async function run(lease: LeaderLease & { acquired: number }, terms: number): Promise<number[]> {
  const stop = new AbortController();
  const lengths: number[] = [];
  const done = runLeadership(
    {
      lease,
      leaseMs: LEASE_MS,
      log,
      now: Date.now,
      runTerm: async (signal) => {
        const started = Date.now();
        await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
        lengths.push(Date.now() - started);
      },
    },
    stop.signal,
  );
  await waitUntil(
    async () => lease.acquired,
    (n) => n >= terms,
    `${terms} terms`,
    5_000,
  );
  stop.abort();
  await done;
  return lengths;
}

describe("runLeadership", () => {
  it("a standby tries again when the holder's lease runs out, not a poll (a third of a lease) later", async () => {
    const leaseMs = 3_000;
    const expiresAt = Date.now() + 150;
    const tries: number[] = [];
    const lease: LeaderLease = {
      async tryAcquire(now = Date.now()) {
        tries.push(now);
        return now > expiresAt;
      },
      renew: async () => "renewed",
      release: async () => {},
      term: () => 7n,
      heldUntil: () => expiresAt,
    };
    const stop = new AbortController();
    const done = runLeadership(
      {
        lease,
        leaseMs,
        log,
        now: Date.now,
        runTerm: (signal) => new Promise((r) => signal.addEventListener("abort", () => r(), { once: true })),
      },
      stop.signal,
    );
    await waitUntil(
      async () => tries.length,
      (n) => n >= 2,
      "a second try",
      5_000,
    );
    stop.abort();
    await done;
    const second = tries[1] ?? 0;
    assert.ok(second > expiresAt, "not before the expiry");
    assert.ok(second - (tries[0] ?? 0) < leaseMs / 3, `tried ${second - (tries[0] ?? 0)} ms after the first try`);
  });

  it("ends the term at once when another replica took the lease, and tries for it again", async () => {
    const lengths = await run(fakeLease(["lost"]), 2);
    assert.ok((lengths[0] ?? Infinity) < LEASE_MS, "ended at the first renewal");
  });

  it("ends the term when renewals fail for most of the lease", async () => {
    const lengths = await run(fakeLease(["error", "error", "error", "error", "error"]), 2);
    assert.ok((lengths[0] ?? 0) >= LEASE_MS * 0.8, "kept leading while the lease could still be ours");
    assert.ok((lengths[0] ?? Infinity) < LEASE_MS * 2);
  });

  it("keeps leading while renewals succeed", async () => {
    const lease = fakeLease([]);
    const stop = new AbortController();
    let ended = false;
    const done = runLeadership(
      {
        lease,
        leaseMs: LEASE_MS,
        log,
        now: Date.now,
        runTerm: (signal) =>
          new Promise((r) =>
            signal.addEventListener(
              "abort",
              () => {
                ended = true;
                r();
              },
              { once: true },
            ),
          ),
      },
      stop.signal,
    );
    await new Promise((r) => setTimeout(r, LEASE_MS * 3));
    assert.equal(ended, false);
    assert.equal(lease.acquired, 1);
    stop.abort();
    await done;
    assert.equal(ended, true);
  });

  it("fences the term: held while renewed, refused once the lease went unrenewed (a paused replica) or the term ended", async () => {
    const lease = fakeLease([]);
    const stop = new AbortController();
    let clock = Date.now();
    let fence: TermFence | undefined;
    let frozen = false;
    const done = runLeadership(
      {
        lease,
        leaseMs: LEASE_MS,
        log,
        // While "paused", the clock jumps but no renewal lands (as after SIGSTOP and SIGCONT).
        now: () => (frozen ? clock : Date.now()),
        runTerm: (signal, f) => {
          fence = f;
          return new Promise((r) => signal.addEventListener("abort", () => r(), { once: true }));
        },
      },
      stop.signal,
    );
    await waitUntil(async () => fence, Boolean, "a term", 5_000);
    assert.ok(fence);
    assert.equal(fence.term, 7n);
    assert.equal(fence.held(), true);
    fence.check();
    clock = Date.now() + LEASE_MS;
    frozen = true;
    assert.equal(fence.held(), false, "most of a lease since the last renewal: refuse before anything is written");
    assert.throws(() => fence?.check(), NotLeaderError);
    frozen = false;
    stop.abort();
    await done;
    assert.equal(fence.held(), false, "the term ended");
  });

  it("counts a renewal from when it was asked: one answered after a pause does not make the lease fresh", async () => {
    // The renewal is sent, the replica is stopped past the lease (SIGSTOP), and its answer is read
    // on waking: the lease another replica may have taken meanwhile must not count as just renewed.
    let clock = 1_000_000;
    let answer: ((r: "renewed") => void) | undefined;
    const lease: LeaderLease = {
      tryAcquire: async () => true,
      renew: () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
      release: async () => {},
      term: () => 7n,
      heldUntil: () => null,
    };
    const stop = new AbortController();
    let fence: TermFence | undefined;
    const done = runLeadership(
      {
        lease,
        leaseMs: LEASE_MS,
        log,
        now: () => clock,
        runTerm: (signal, f) => {
          // The first term's fence: the one the late answer must not refresh (a next term has its own).
          fence ??= f;
          return new Promise((r) => signal.addEventListener("abort", () => r(), { once: true }));
        },
      },
      stop.signal,
    );
    await waitUntil(async () => answer, Boolean, "a renewal asked for", 5_000);
    assert.equal(fence?.held(), true);
    clock += 10 * LEASE_MS;
    answer?.("renewed");
    await new Promise((r) => setImmediate(r));
    try {
      assert.equal(fence?.held(), false, "the renewal was asked a pause ago: refuse");
    } finally {
      stop.abort();
      await done;
    }
  });
});
