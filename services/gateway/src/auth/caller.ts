import { createContextKey } from "@connectrpc/connect";
import type { Tier } from "@t2v/common";

/** Who is calling, from the API key; set by the auth interceptor. */
export interface Caller {
  tenantId: string;
  tier: Tier;
  /** The key's visible prefix: safe to log, the rate-limit key. */
  keyPrefix: string;
}

export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });
