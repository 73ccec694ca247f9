import type { Attributes, ObservableResult } from "@opentelemetry/api";

/** Label values an observer remembers; past this, the oldest is forgotten (its series then keeps its last value). */
const MAX_REMEMBERED = 1_000;

/**
 * Observes one value per label value (`label` = `key`), and 0 for every label value it observed
 * before that is absent now. The metrics SDK keeps exporting a series an asynchronous gauge no
 * longer observes at its last value, for ever: a worker group that went away, or a pool whose
 * last task finished, would otherwise still read as it last was.
 */
export function observeEach(
  label: string,
): (o: ObservableResult<Attributes>, values: Iterable<[string, number]>) => void {
  const seen = new Set<string>();
  return (o, values) => {
    const now = new Map(values);
    for (const key of now.keys()) {
      seen.delete(key);
      seen.add(key);
    }
    while (seen.size > MAX_REMEMBERED) seen.delete(seen.values().next().value ?? "");
    for (const key of seen) o.observe(now.get(key) ?? 0, { [label]: key });
  };
}
