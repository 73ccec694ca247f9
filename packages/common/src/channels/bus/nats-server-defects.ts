/**
 * Before nats-server 2.9.21 a stream with replicas checked a write's expected
 * last sequence before the Raft proposal rather than in it, so two concurrent
 * compare-and-swaps on one KV key could both succeed (nats-io/nats-server#4320,
 * fixed by #4319). On one server (replicas 1) the check is atomic.
 */
export const CLUSTERED_CAS_FIXED_IN = "2.9.21";

/** True when a server of this version (e.g. "2.9.10") lets concurrent CAS writes both win on a replicated stream. */
export function lacksClusteredCas(version: string): boolean {
  const parse = (v: string): number[] => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1) ?? []).map(Number);
  const have = parse(version);
  const fixed = parse(CLUSTERED_CAS_FIXED_IN);
  if (have.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (fixed[i] ?? 0)) return (have[i] ?? 0) < (fixed[i] ?? 0);
  }
  return false;
}
