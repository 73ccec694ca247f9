/** Runs `run` once fewer than the limit's calls are running, in the order asked. */
export type InFlightLimit = <T>(run: () => Promise<T>) => Promise<T>;

export interface InFlightLimitOptions {
  /** At most this many calls wait for a slot; one more is refused at once. */
  maxWaiting: number;
  /** A call that waited this long for a slot is refused, so an outage cannot pile callers up for ever. */
  maxWaitMs: number;
}

/** Thrown for a call refused by its limit (too many waiting, or waited too long): worth a retry later. */
export class InFlightLimitError extends Error {
  constructor(why: string) {
    super(why);
    this.name = "InFlightLimitError";
  }
}

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
  gone: boolean;
}

/**
 * At most `max` calls at once; the others wait in order, and only start
 * (and so start their own timeouts) when a running one ends. A burst of
 * requests then queues here instead of in the connection, where thousands
 * of them at once time out together while their replies wait behind one
 * another on a busy event loop. The wait is bounded in count and in time.
 */
export function inFlightLimit(max: number, opts: InFlightLimitOptions): InFlightLimit {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`in-flight limit must be a positive integer: ${max}`);
  let running = 0;
  let waitingCount = 0;
  const waiting: Waiter[] = [];
  const release = (): void => {
    // A call that ends hands its slot to the first waiter still there, so `running` stays as it is.
    for (let w = waiting.shift(); w; w = waiting.shift()) {
      if (w.gone) continue;
      w.gone = true;
      waitingCount--;
      clearTimeout(w.timer);
      w.start();
      return;
    }
    running--;
  };
  const slot = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (waitingCount >= opts.maxWaiting) {
        reject(new InFlightLimitError(`${waitingCount} calls already wait for one of ${max} slots`));
        return;
      }
      waitingCount++;
      const w: Waiter = {
        start: resolve,
        gone: false,
        timer: setTimeout(() => {
          // Left in the queue, skipped when its turn comes.
          w.gone = true;
          waitingCount--;
          reject(new InFlightLimitError(`waited ${opts.maxWaitMs} ms for one of ${max} slots`));
        }, opts.maxWaitMs),
      };
      waiting.push(w);
    });
  return async (run) => {
    if (running < max) running++;
    else await slot();
    try {
      return await run();
    } finally {
      release();
    }
  };
}
