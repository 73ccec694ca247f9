import { type BucketState, type Rate, takeToken } from "../domain/token-bucket.js";

export interface RateLimiter {
  /** 0 when the call may go ahead, else milliseconds to wait. */
  take(key: string, rate: Rate): number;
}

const MAX_KEYS = 100_000;

/**
 * Token buckets per API key, in this process only: with N gateway replicas a
 * key gets up to N times its rate (acceptable for abuse protection; a shared
 * limit would need a KV round trip per call).
 */
export function createRateLimiter(now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, BucketState>();
  return {
    take(key, rate) {
      const r = takeToken(buckets.get(key), rate, now());
      // Map keeps insertion order: re-insert so the oldest entries go first when full.
      buckets.delete(key);
      if (buckets.size >= MAX_KEYS) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      buckets.set(key, r.state);
      return r.ok ? 0 : r.retryAfterMs;
    },
  };
}
