/** Runs `run` after every earlier call with the same key has settled. */
export type KeyedSerial = <T>(key: string, run: () => Promise<T>) => Promise<T>;

/**
 * One compare-and-swap at a time per key in this process: concurrent writers
 * of one counter (a tenant's burst of creates) would otherwise retry each
 * other out, O(n^2) round trips; across processes only the replicas contend.
 */
export function keyedSerial(): KeyedSerial {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const p = (tails.get(key) ?? Promise.resolve()).then(run, run);
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return p;
  };
}

/** A short random pause after losing a compare-and-swap to another process, growing with the losses. */
export function casBackoff(tries: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (tries + 1))));
}
