import type { ApiKeyStore, Tier } from "@t2v/common";
import { retryLater } from "@t2v/common";
import type { RateLimiter } from "../limits/rate-limiter.js";
import type { Rate } from "../limits/token-bucket.js";
import { authenticate } from "./authenticate.js";
import type { Caller } from "./caller.js";

export interface Guard {
  /** Authenticates and charges one request to the key's rate limit. */
  admit(authorization: string | null | undefined): Promise<Caller>;
  /** Authenticates without charging (downloads). */
  identify(authorization: string | null | undefined): Promise<Caller>;
}

/** The one door every RPC and REST call goes through. */
export function createGuard(
  keys: ApiKeyStore,
  limiter: RateLimiter,
  rates: Record<Tier, Rate>,
  onLimited: (tier: Tier) => void = () => undefined,
): Guard {
  return {
    identify: (authorization) => authenticate(authorization, keys),
    async admit(authorization) {
      const caller = await authenticate(authorization, keys);
      const waitMs = limiter.take(caller.keyPrefix, rates[caller.tier]);
      if (waitMs > 0) {
        onLimited(caller.tier);
        throw retryLater(`rate limit of the ${caller.tier} tier reached; retry later`, waitMs);
      }
      return caller;
    },
  };
}
