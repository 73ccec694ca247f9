/**
 * Cases each property of the end-to-end fuzz suite (test/e2e/suites/fuzz.ts)
 * tries, from the FUZZ_RUNS the fuzz suites beside the code read (default
 * 200, services/gateway/src/testing/fuzz-runs.ts): 3/10 of it, so the
 * default is 60 per property (120 for the Connect one), 240 cases. Each case
 * is a request through the whole mesh over the network, where the suites
 * beside the code call a parser or one gateway; those run the bulk of the
 * cases (2,150 at the default). Raise it for a soak
 * (`FUZZ_RUNS=2000 node --test test/dist/e2e/api.test.js`).
 */
export function meshFuzzRuns(): number {
  const n = Number(process.env.FUZZ_RUNS ?? "200");
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env.FUZZ_RUNS}`);
  return Math.max(1, Math.round((n * 3) / 10));
}
