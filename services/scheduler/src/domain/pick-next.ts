import type { FairQueue, QueueEntry } from "./fair-queue.js";

export interface AgeingPolicy {
  /** Batch tasks older than this compete with standard ones, oldest first. */
  batchPromoteAfterMs: number;
}

/**
 * What a worker group serving `pools` (highest priority first) should run
 * next: VIP before standard before batch, round robin across tenants within a
 * pool, and batch work that has waited too long treated as standard so it is
 * never starved. Pure.
 */
export function pickNext(
  queues: ReadonlyMap<string, FairQueue>,
  pools: readonly string[],
  now: number,
  ageing: AgeingPolicy,
): QueueEntry | undefined {
  const agedBatch = pools.includes("batch") ? queues.get("batch")?.oldest(now) : undefined;
  const promoted = agedBatch && now - agedBatch.enqueuedAt >= ageing.batchPromoteAfterMs ? agedBatch : undefined;
  for (const pool of pools) {
    const next = queues.get(pool)?.peek(now);
    if (pool === "standard" && promoted && (!next || promoted.enqueuedAt < next.enqueuedAt)) return promoted;
    if (next) return next;
  }
  return promoted;
}

/** Tasks of higher-priority pools that a task of `pool` waits behind, plus its place in its own pool. */
export function queuePosition(
  queues: ReadonlyMap<string, FairQueue>,
  pools: readonly string[],
  pool: string,
  taskId: string,
): number | undefined {
  const own = queues.get(pool)?.position(taskId);
  return own === undefined ? undefined : behindPools(queues, pools, pool, own);
}

/** The same for a task not filed yet, placed as if it were filed now (FairQueue.positionOfNew). */
export function arrivingPosition(
  queues: ReadonlyMap<string, FairQueue>,
  pools: readonly string[],
  arriving: { pool: string; tenantId: string; priority: number },
): number {
  const own = queues.get(arriving.pool)?.positionOfNew(arriving.tenantId, arriving.priority) ?? 0;
  return behindPools(queues, pools, arriving.pool, own);
}

function behindPools(queues: ReadonlyMap<string, FairQueue>, pools: readonly string[], pool: string, own: number) {
  let ahead = own;
  for (const p of pools) {
    if (p === pool) break;
    ahead += queues.get(p)?.size ?? 0;
  }
  return ahead;
}
