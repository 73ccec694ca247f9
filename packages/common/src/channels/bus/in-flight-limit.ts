/** Runs `run` once fewer than the limit's calls are running, in the order asked. */
export type InFlightLimit = <T>(run: () => Promise<T>) => Promise<T>;

/**
 * At most `max` calls at once; the others wait in order, and only start
 * (and so start their own timeouts) when a running one ends. A burst of
 * requests then queues here instead of in the connection, where thousands
 * of them at once time out together while their replies wait behind one
 * another on a busy event loop. Callers bound how many wait.
 */
export function inFlightLimit(max: number): InFlightLimit {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`in-flight limit must be a positive integer: ${max}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (run) => {
    if (running < max) running++;
    // A call that ends hands its slot to the first waiter, so `running` stays as it is.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
