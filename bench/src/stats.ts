import { loadavg } from "node:os";
import type { Figure } from "./result.js";

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    n: s.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    max: round(s.at(-1) ?? Number.NaN),
  };
}

/** The machine's 1-minute load at a benchmark's start and end: figures are only comparable within a run. */
export interface Load {
  start: number;
  end: number;
}

export async function withLoad<T>(fn: () => Promise<T>): Promise<{ value: T; load: Load }> {
  const start = loadavg()[0] ?? 0;
  const value = await fn();
  return { value, load: { start: round2(start), end: round2(loadavg()[0] ?? 0) } };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Latencies of the calls that succeeded, their rate, and the calls that failed (the first failure's message). */
export interface LoopResult {
  latencies: number[];
  perSecond: number;
  errors: number;
  firstError?: string;
}

/**
 * A figure and a note for each named loop that had failures: a latency of the calls that
 * succeeded alone would mislead.
 */
export function loopFailures(loops: readonly (readonly [string, LoopResult])[]): {
  figures: Figure[];
  notes: string[];
} {
  const failed = loops.filter(([, r]) => r.errors > 0);
  return {
    figures: failed.map(([what, r]) => ({ name: `${what}: failed calls`, unit: "calls", value: r.errors })),
    notes: failed.map(
      ([what, r]) =>
        `${what}: ${r.errors} calls failed (the first: ${r.firstError ?? "?"}); the latencies are those of the calls that succeeded`,
    ),
  };
}

/** Runs `fn` from `clients` concurrent loops for `ms`, returning the latency (ms) of every call that succeeded, calls per second and the failures. */
export async function closedLoop(clients: number, ms: number, fn: () => Promise<unknown>): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const until = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          await fn();
          latencies.push(performance.now() - t);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  return {
    latencies,
    perSecond: round2(latencies.length / ((performance.now() - t0) / 1000)),
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
