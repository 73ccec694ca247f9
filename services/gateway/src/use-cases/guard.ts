import type { ApiKeyStore } from "@t2v/common/api-keys";
import type { Tier } from "@t2v/common/task";
import type { RateLimiter } from "../adapters/rate-limiter.js";
import type { Caller } from "../domain/caller.js";
import { GatewayErrorCode } from "../domain/error-codes.js";
import { retryLater } from "../domain/rpc-errors.js";
import type { Rate } from "../domain/token-bucket.js";
import { authenticate } from "./authenticate.js";

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
        throw retryLater(
          `rate limit of the ${caller.tier} tier reached; retry later`,
          waitMs,
          undefined,
          GatewayErrorCode.rateLimited,
        );
      }
      return caller;
    },
  };
}
