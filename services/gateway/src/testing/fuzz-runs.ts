/**
 * Cases each property of the fuzz suites (*fuzz.test.ts) tries: FUZZ_RUNS,
 * default 200, a quarter of it for the properties that each open a
 * connection to a gateway (`wire`); so a unit run tries 2,150 cases in all
 * (10 + 3 properties) and stays fast. Raise it for a soak
 * (`FUZZ_RUNS=20000 node --test ...`). A failure prints fast-check's seed
 * and path to replay it.
 */
export function fuzzRuns(kind: "pure" | "wire" = "pure"): number {
  const n = Number(process.env.FUZZ_RUNS ?? "200");
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env.FUZZ_RUNS}`);
  return kind === "wire" ? Math.ceil(n / 4) : n;
}
