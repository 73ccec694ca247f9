/**
 * Tiers of service, highest priority first. A key's tier is its tasks' tier
 * and GPU pool: a worker serving several pools takes VIP work first.
 */
export const TIERS = ["vip", "standard", "batch"] as const;
export type Tier = (typeof TIERS)[number];

export function isTier(s: string): s is Tier {
  return (TIERS as readonly string[]).includes(s);
}

/** Workers serving the same pools form a group and share one consumer: "vip-standard". */
export function workerGroup(pools: readonly string[]): string {
  return TIERS.filter((p) => pools.includes(p)).join("-");
}
