export interface RetryPolicy {
  /** Tries in all, the first included (3 by default). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Exponential backoff with "full jitter" (AWS architecture blog): a random
 * delay up to base x 2^(n-1), so retries of many failed tasks spread out.
 * `random` is in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, random: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(ceiling / 2 + (random * ceiling) / 2);
}
