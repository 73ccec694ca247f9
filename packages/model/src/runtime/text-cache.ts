/**
 * Text embeddings by prompt pair, least recently used evicted first. Values are promises, so a
 * `generate` arriving while the same pair is still being prepared waits for that encoding
 * instead of running the text encoder twice. Bounded because a real text encoder's output is
 * large (umT5-XXL: 2 x 512 x 4096 float32 = 16 MB per pair).
 */
export class TextCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(private readonly capacity: number) {}

  /** The cached value for the pair, or `encode()`'s, which is cached unless it fails. */
  get(prompt: string, negativePrompt: string, encode: () => Promise<T>): Promise<T> {
    const key = JSON.stringify([prompt, negativePrompt]);
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Re-insert so Map order stays least-recently-used first.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const value = encode();
    this.entries.set(key, value);
    // A failed encoding is not worth keeping: the next call tries again.
    value.catch(() => {
      if (this.entries.get(key) === value) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
