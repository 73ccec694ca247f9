import type { KvBucket } from "./bus/bus.js";
import { casBackoff } from "./keyed-serial.js";

/**
 * What to make of a key's value (null: no entry): the value to write and the
 * answer to give once it is written, or `next: null` to write nothing.
 */
export type CasStep<R> = (current: Uint8Array | null) => { next: Uint8Array | null; result: R };

/** Keys whose value and revision are kept, least recently written dropped first. */
const KNOWN_KEYS = 10_000;

export interface CasCells {
  /** Applies `step` with compare-and-swap, asking it again after every lost race. */
  change<R>(key: string, step: CasStep<R>): Promise<R>;
}

interface Known {
  value: Uint8Array | null;
  /** 0: no entry. */
  revision: number;
}

/**
 * Compare-and-swap on the keys of one bucket, keeping the last value and
 * revision this process read or wrote of each key: while no other process
 * writes the key, a change is one write instead of a read and a write. A
 * kept revision that is stale only loses the swap; the key is then read and
 * the step asked again. A step that writes nothing is only believed on a
 * fresh read, so a refusal never rests on a kept value.
 */
export function casCells(kv: KvBucket, what: string, maxTries: number): CasCells {
  const known = new Map<string, Known>();
  const remember = (key: string, k: Known) => {
    known.delete(key);
    known.set(key, k);
    if (known.size > KNOWN_KEYS) known.delete(known.keys().next().value ?? key);
  };
  const read = async (key: string): Promise<Known> => {
    const e = await kv.get(key);
    return e ? { value: e.value, revision: e.revision } : { value: null, revision: 0 };
  };
  return {
    async change<R>(key: string, step: CasStep<R>): Promise<R> {
      let current = known.get(key);
      let fresh = current === undefined;
      let lost = 0;
      try {
        for (let i = 0; i < maxTries + 1; i++) {
          if (current === undefined) {
            current = await read(key);
            remember(key, current);
            fresh = true;
          }
          const { next, result } = step(current.value);
          if (next === null) {
            if (fresh) return result;
            current = undefined;
            continue;
          }
          const revision =
            current.revision === 0 ? await kv.create(key, next) : await kv.update(key, next, current.revision);
          if (revision !== null) {
            remember(key, { value: next, revision });
            return result;
          }
          // A kept revision going stale is not contention: read and try again at once.
          if (fresh && ++lost >= maxTries) break;
          if (fresh) await casBackoff(lost);
          current = undefined;
        }
      } catch (err) {
        known.delete(key);
        throw err;
      }
      known.delete(key);
      throw new Error(`${key}: too much contention on the ${what}`);
    },
  };
}
