export interface PoolLoad {
  /** Live workers that can run the task. */
  workers: number;
  /** Tasks those workers are running now. */
  running: number;
  /** Measured mean run time of a task (denoise to video ready), seconds. */
  meanRunSeconds: number;
}

/**
 * When a task at `position` should start and finish: the running tasks and
 * those ahead of it drain through `workers` slots of `meanRunSeconds` each.
 * With no live worker there is no honest estimate.
 */
export function estimateWait(
  position: number,
  load: PoolLoad,
  now: number,
): { startMs: number; finishMs: number } | undefined {
  if (load.workers <= 0 || !(load.meanRunSeconds > 0)) return undefined;
  const busyAhead = Math.max(0, load.running + position - load.workers + 1);
  const runMs = Math.round(load.meanRunSeconds * 1000);
  const startMs = Math.round(now) + Math.ceil(busyAhead / load.workers) * runMs;
  return { startMs, finishMs: startMs + runMs };
}

/** Exponentially weighted mean: recent runs count more, one outlier does not dominate. */
export function updateMean(previous: number | undefined, sample: number, weight = 0.2): number {
  return previous === undefined ? sample : previous + weight * (sample - previous);
}
