import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";

export interface RetryOptions {
  log: Logger;
  /** What is retried, for the log ("publish the DecodeJob"). */
  what: string;
  /** Stops retrying: the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The first wait; each next one doubles, with jitter, up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Gives up this long after the first failure and rejects with the last error. Far past a NATS
   * restart (seconds) or failover (a minute); an error that outlives it is not an outage.
   */
  giveUpAfterMs?: number;
}

export const RETRY_DEFAULTS = { firstDelayMs: 100, maxDelayMs: 5_000, giveUpAfterMs: 5 * 60_000 } as const;

/**
 * Calls `fn` until it resolves, waiting between tries (bounded exponential
 * backoff with jitter), so a write made while NATS is unreachable lands once
 * it is back instead of being dropped. Only for idempotent writes: a try that
 * timed out may have landed (streams drop a repeated message id; worker
 * events are applied idempotently).
 */
export async function retryWithBackoff<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const first = opts.firstDelayMs ?? RETRY_DEFAULTS.firstDelayMs;
  const max = opts.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs;
  const giveUpAfter = opts.giveUpAfterMs ?? RETRY_DEFAULTS.giveUpAfterMs;
  let failedSince: number | undefined;
  for (let tries = 1; ; tries++) {
    opts.signal?.throwIfAborted();
    try {
      const value = await fn();
      if (failedSince !== undefined) opts.log.info({ what: opts.what, tries }, "write went through after retries");
      return value;
    } catch (err) {
      const now = Date.now();
      failedSince ??= now;
      if (now - failedSince >= giveUpAfter) {
        opts.log.error({ err, what: opts.what, tries }, "giving up on a write");
        throw err;
      }
      if (tries === 1) opts.log.warn({ err, what: opts.what }, "write failed; retrying with backoff");
      const ceiling = Math.min(max, first * 2 ** (tries - 1));
      await delay(ceiling / 2 + Math.random() * (ceiling / 2), undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}
