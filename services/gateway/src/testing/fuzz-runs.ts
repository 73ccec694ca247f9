/**
 * Cases each property of the fuzz suites (*.fuzz.test.ts) tries: FUZZ_RUNS,
 * default 200, so a unit run tries 2,600 cases in all (13 properties) and stays fast;
 * raise it for a soak (`FUZZ_RUNS=20000 node --test ...`). A failure prints
 * fast-check's seed and path to replay it.
 */
export function fuzzRuns(): number {
  const n = Number(process.env.FUZZ_RUNS ?? "200");
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env.FUZZ_RUNS}`);
  return n;
}
