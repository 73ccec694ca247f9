/** Hands an item to the batch of its key; resolves with that item's own result. */
export type KeyedBatch<I, O> = (key: string, item: I) => Promise<O>;

/** Items one run takes at most; the rest wait for the next run. */
export const MAX_BATCH = 256;

interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for a shared counter: one `run` per key at a time, and the
 * items that arrive while it runs go together into the next one. A burst of
 * n submits of one tenant then costs a few compare-and-swaps, not n in a
 * row (each one waiting for the last: a queue of round trips).
 *
 * `run` answers every item of its batch, in order; when it throws, each item
 * of that batch fails with its error.
 */
export function keyedBatch<I, O>(
  run: (key: string, items: I[]) => Promise<O[]>,
  maxBatch = MAX_BATCH,
): KeyedBatch<I, O> {
  const queues = new Map<string, Waiting<I, O>[]>();
  const running = new Set<string>();

  const drain = async (key: string): Promise<void> => {
    running.add(key);
    try {
      for (let queue = queues.get(key); queue && queue.length > 0; queue = queues.get(key)) {
        const batch = queue.splice(0, maxBatch);
        try {
          const out = await run(
            key,
            batch.map((w) => w.item),
          );
          batch.forEach((w, i) => {
            if (i < out.length) w.resolve(out[i] as O);
            else w.reject(new Error(`batch of ${key}: no answer for item ${i}`));
          });
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      queues.delete(key);
      running.delete(key);
    }
  };

  return (key, item) =>
    new Promise<O>((resolve, reject) => {
      const queue = queues.get(key) ?? [];
      queue.push({ item, resolve, reject });
      queues.set(key, queue);
      if (!running.has(key)) void drain(key);
    });
}
