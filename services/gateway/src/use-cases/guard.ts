import { Code, ConnectError } from "@connectrpc/connect";
import type { ApiKeyStore } from "@t2v/common/api-keys";
import type { Tier } from "@t2v/common/task";
import type { AuthFailureLimiter } from "../adapters/auth-failure-limiter.js";
import type { RateLimiter } from "../adapters/rate-limiter.js";
import type { Caller } from "../domain/caller.js";
import { GatewayErrorCode } from "../domain/error-codes.js";
import { retryLater } from "../domain/rpc-errors.js";
import type { Rate } from "../domain/token-bucket.js";
import { authenticate } from "./authenticate.js";

export interface Guard {
  /**
   * Authenticates and charges one request to the key's rate limit. `address`
   * (the client's) has its failed authentications limited; without one (in-memory transports) they are not.
   */
  admit(authorization: string | null | undefined, address?: string): Promise<Caller>;
  /** Authenticates without charging the key (downloads); failures still count against the address. */
  identify(authorization: string | null | undefined, address?: string): Promise<Caller>;
}

export interface GuardHooks {
  onLimited?: (tier: Tier) => void;
  onAuthFailuresLimited?: () => void;
}

/** The one door every RPC and REST call goes through. */
export function createGuard(
  keys: ApiKeyStore,
  limiter: RateLimiter,
  rates: Record<Tier, Rate>,
  failures: AuthFailureLimiter,
  hooks: GuardHooks = {},
): Guard {
  async function identify(authorization: string | null | undefined, address?: string): Promise<Caller> {
    if (address === undefined) return authenticate(authorization, keys);
    const waitMs = failures.waitMs(address);
    if (waitMs > 0) {
      hooks.onAuthFailuresLimited?.();
      throw retryLater(
        "too many failed authentications from this address; retry later",
        waitMs,
        undefined,
        GatewayErrorCode.authFailuresLimited,
      );
    }
    try {
      return await authenticate(authorization, keys);
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) failures.failed(address);
      throw err;
    }
  }
  return {
    identify,
    async admit(authorization, address) {
      const caller = await identify(authorization, address);
      const waitMs = limiter.take(caller.keyPrefix, rates[caller.tier]);
      if (waitMs > 0) {
        hooks.onLimited?.(caller.tier);
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
