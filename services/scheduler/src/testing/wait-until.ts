import { setTimeout as delay } from "node:timers/promises";

/**
 * Calls `probe` until `done` holds for its result and returns that result, so
 * a test waits on a condition, not on a guessed sleep. Fails after
 * `timeoutMs` with the last result.
 */
export async function waitUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() >= until) throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${show(value)}`);
    await delay(20);
  }
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
}
