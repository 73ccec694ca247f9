/**
 * Cases each property of the end-to-end fuzz suite (test/e2e/suites/fuzz.ts)
 * tries, from the FUZZ_RUNS the fuzz suites beside the code read (default
 * 200, services/gateway/src/testing/fuzz-runs.ts): 5/2 of it, so the default
 * is 500 per property (1,000 for the Connect one), 2,000 cases through the
 * whole mesh in about 10 s, besides the 2,150 of the suites beside the code.
 * Raise it for a soak (`FUZZ_RUNS=2000 node --test test/dist/e2e/api.test.js`:
 * 20,000 cases). A failure prints fast-check's seed and path.
 */
export function meshFuzzRuns(): number {
  const n = Number(process.env.FUZZ_RUNS ?? "200");
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env.FUZZ_RUNS}`);
  return Math.ceil((n * 5) / 2);
}
