import type { Tier } from "@t2v/common/task";

/** Who is calling, from the API key. */
export interface Caller {
  tenantId: string;
  tier: Tier;
  /** The key's visible prefix: safe to log, the rate-limit key. */
  keyPrefix: string;
}
