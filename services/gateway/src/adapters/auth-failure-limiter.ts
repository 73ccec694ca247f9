import { type BucketState, type Rate, takeToken, waitForToken } from "../domain/token-bucket.js";

export interface AuthFailureLimiter {
  /** 0 while the address may try a key, else milliseconds until it may again. */
  waitMs(address: string): number;
  /** Counts one failed authentication from the address. */
  failed(address: string): void;
  /** Addresses tracked now (at most `maxAddresses`). */
  size(): number;
}

/**
 * A token bucket of failed authentications per client address, in this
 * process: each failure takes a token, and an address without one is refused
 * before its key is looked up. The table holds at most `maxAddresses`
 * entries (about 150 bytes each); the least recently failing go first.
 */
export function createAuthFailureLimiter(
  rate: Rate,
  maxAddresses: number,
  now: () => number = Date.now,
): AuthFailureLimiter {
  const buckets = new Map<string, BucketState>();
  return {
    waitMs: (address) => waitForToken(buckets.get(address), rate, now()),
    failed(address) {
      const r = takeToken(buckets.get(address), rate, now());
      // Map keeps insertion order: re-insert so the oldest entries go first when full.
      buckets.delete(address);
      while (buckets.size >= maxAddresses) {
        const oldest = buckets.keys().next().value;
        if (oldest === undefined) break;
        buckets.delete(oldest);
      }
      buckets.set(address, r.state);
    },
    size: () => buckets.size,
  };
}
