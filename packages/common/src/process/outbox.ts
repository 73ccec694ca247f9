import { type RetryOptions, retryWithBackoff } from "./retry.js";

export interface Outbox<T> {
  /** Queues an item, sent after every item queued before it. Never throws. */
  push(item: T): void;
  /** Resolves once every item pushed so far is sent; rejects when a send was given up (see `giveUpAfterMs`). */
  flush(): Promise<void>;
  /** Items waiting behind the one being sent. */
  readonly waiting: number;
}

export interface OutboxOptions<T> extends RetryOptions {
  /**
   * True when `next` makes the waiting `last` pointless, so it takes its place (progress: only
   * the latest step matters). This keeps the queue a few items long however long an outage is.
   */
  replaces?(last: T, next: T): boolean;
}

/**
 * An ordered sender that outlives an outage: items go out one at a time, in
 * order, each retried with backoff until it is sent. The caller never awaits
 * a send (a denoising step does not wait for NATS) and no send can become an
 * unhandled rejection; `flush()` is where the caller waits, before it acks.
 */
export function createOutbox<T>(send: (item: T) => Promise<void>, opts: OutboxOptions<T>): Outbox<T> {
  let queue: T[] = [];
  let running: Promise<void> | undefined;
  let failure: { err: unknown } | undefined;

  const drain = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      const sending = item;
      await retryWithBackoff(() => send(sending), opts);
    }
  };
  const start = (): void => {
    if (running) return;
    running = drain()
      .catch((err: unknown) => {
        failure = { err };
        queue = [];
      })
      .finally(() => {
        running = undefined;
        // Pushed after the loop saw an empty queue, before this ran.
        if (queue.length > 0) start();
      });
  };

  return {
    push(item) {
      if (failure) return;
      const last = queue.length > 0 ? queue[queue.length - 1] : undefined;
      if (last !== undefined && opts.replaces?.(last, item)) queue[queue.length - 1] = item;
      else queue.push(item);
      start();
    },
    async flush() {
      while (running) await running;
      if (failure) throw failure.err;
    },
    get waiting() {
      return queue.length;
    },
  };
}
