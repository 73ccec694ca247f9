import { setTimeout as delay } from "node:timers/promises";

export interface WaitOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

export interface WaitUntilOptions<T> extends WaitOptions {
  /** How the last result reads in the error message (JSON by default). */
  show?: (value: T) => string;
}

/**
 * Calls `probe` until `done` holds for its result and returns that result; a
 * probe that throws counts as not done (a read while NATS restarts). Fails
 * after `timeoutMs` with the last result, so a test waits on a condition, not
 * on a guessed sleep.
 */
export async function waitUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, everyMs = 100, what = "condition", show = toJson }: WaitUntilOptions<T> = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (done(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= until) {
      const seen = last === undefined ? "nothing" : "value" in last ? show(last.value) : String(last.error);
      throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${seen}`);
    }
    await delay(everyMs);
  }
}

function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
