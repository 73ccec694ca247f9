export interface BucketState {
  tokens: number;
  at: number;
}

export interface Rate {
  perMinute: number;
  burst: number;
}

export type TakeResult = { ok: true; state: BucketState } | { ok: false; state: BucketState; retryAfterMs: number };

/**
 * One token-bucket step, pure: refill for the time passed since `state.at`,
 * then take one token or say how long until one is there.
 */
export function takeToken(state: BucketState | undefined, rate: Rate, now: number): TakeResult {
  const perMs = rate.perMinute / 60_000;
  const prev = state ?? { tokens: rate.burst, at: now };
  const tokens = Math.min(rate.burst, prev.tokens + Math.max(0, now - prev.at) * perMs);
  if (tokens >= 1) return { ok: true, state: { tokens: tokens - 1, at: now } };
  return { ok: false, state: { tokens, at: now }, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
}

/** Milliseconds until `state` holds a whole token again (0: it holds one now); pure, takes nothing. */
export function waitForToken(state: BucketState | undefined, rate: Rate, now: number): number {
  if (!state) return 0;
  const perMs = rate.perMinute / 60_000;
  const tokens = Math.min(rate.burst, state.tokens + Math.max(0, now - state.at) * perMs);
  return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / perMs);
}
