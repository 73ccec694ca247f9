import type { Tier } from "@t2v/common/task";

/**
 * Which submits of one batch fit in a tenant's queue, in their order: each
 * fits while the queue (`held`: queued, plus places taken and not yet
 * counted) and the batch's earlier admitted submits stay below its tier's
 * limit. `totals[i]` is what submit i was measured against.
 */
export function fitInQueue(
  held: number,
  tiers: readonly Tier[],
  maxQueued: Readonly<Record<Tier, number>>,
): { admitted: boolean[]; totals: number[]; count: number } {
  let count = 0;
  const totals: number[] = [];
  const admitted = tiers.map((tier) => {
    const total = held + count;
    totals.push(total);
    if (total >= maxQueued[tier]) return false;
    count++;
    return true;
  });
  return { admitted, totals, count };
}
