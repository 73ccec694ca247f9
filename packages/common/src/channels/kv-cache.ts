import { setTimeout as delay } from "node:timers/promises";
import type { KvBucket, KvChange } from "./bus/bus.js";

export interface KvCache<T> {
  /**
   * The key's value (null: none): from memory while the bucket watch is up and
   * the key was read since, from the bucket otherwise. Concurrent reads of one key share one read.
   */
  get(key: string): Promise<T | null>;
  /**
   * Calls `fn` with every later value of `key` (null: deleted), and once more
   * with the current one after the watch had to be opened again (changes in
   * between are not replayed). Returns the function that stops it.
   */
  onChange(key: string, fn: (value: T | null) => void): () => void;
  /** Whether the watch is up (values are then served from memory). */
  live(): boolean;
  /** Resolves once the watch is up for the first time. */
  ready(): Promise<void>;
  /** Values held now. */
  size(): number;
  stop(): void;
}

export interface KvCacheOptions<T> {
  decode: (value: Uint8Array) => T;
  /** Values held at most; the least recently read goes first. */
  maxEntries: number;
  /** Whether a missing key is held too (a tenant without queue stats), or read each time (an unknown API key). */
  cacheMissing: boolean;
  /** After a lost watch, it is opened again this much later. */
  rewatchMs?: number;
  onWatchLost?: (err: unknown) => void;
}

const REWATCH_MS = 500;

/**
 * A read-through cache of a KV bucket kept current by one watch of the whole
 * bucket (one consumer per process, however many keys are held): a change is
 * applied as soon as the watch delivers it, in milliseconds. While the watch is
 * down nothing is served from memory, and what was held is dropped, since
 * changes in the gap would be missed.
 */
export function createKvCache<T>(kv: KvBucket, opts: KvCacheOptions<T>): KvCache<T> {
  const values = new Map<string, T | null>();
  /** Reads in flight; `stale` once a change of the key arrived during the read, which then must not be kept. */
  const reading = new Map<string, { promise: Promise<T | null>; stale: boolean }>();
  const listeners = new Map<string, Set<(value: T | null) => void>>();
  const stopping = new AbortController();
  let isLive = false;
  /** Bumped whenever the watch comes up or goes down: a read begun in another epoch is not kept. */
  let epoch = 0;
  let markReady: () => void = () => undefined;
  const firstLive = new Promise<void>((r) => {
    markReady = r;
  });

  const keep = (key: string, value: T | null): void => {
    if (value === null && !opts.cacheMissing) return;
    values.delete(key);
    values.set(key, value);
    if (values.size > opts.maxEntries) {
      const oldest = values.keys().next();
      if (!oldest.done) values.delete(oldest.value);
    }
  };

  const apply = (c: KvChange): void => {
    const value = c.entry ? opts.decode(c.entry.value) : null;
    const r = reading.get(c.key);
    if (r) r.stale = true;
    if (values.has(c.key)) {
      if (value === null && !opts.cacheMissing) values.delete(c.key);
      else values.set(c.key, value);
    }
    for (const fn of listeners.get(c.key) ?? []) fn(value);
  };

  function read(key: string): Promise<T | null> {
    const inFlight = reading.get(key);
    if (inFlight) return inFlight.promise;
    const startedIn = epoch;
    const r: { promise: Promise<T | null>; stale: boolean } = { promise: Promise.resolve(null), stale: false };
    r.promise = kv.get(key).then(
      (e): T | null => {
        reading.delete(key);
        const value = e ? opts.decode(e.value) : null;
        if (isLive && epoch === startedIn && !r.stale) keep(key, value);
        return value;
      },
      (err: unknown) => {
        reading.delete(key);
        throw err;
      },
    );
    reading.set(key, r);
    return r.promise;
  }

  const goDown = (): void => {
    isLive = false;
    epoch++;
    values.clear();
  };

  async function watchLoop(): Promise<void> {
    let first = true;
    while (!stopping.signal.aborted) {
      try {
        const changes = await kv.changes(stopping.signal);
        isLive = true;
        epoch++;
        markReady();
        // Changes in the gap were missed: each listener hears its key's value now.
        if (!first) for (const key of listeners.keys()) void recheck(key);
        first = false;
        for await (const c of changes) apply(c);
      } catch (err) {
        if (!stopping.signal.aborted) opts.onWatchLost?.(err);
      }
      goDown();
      if (stopping.signal.aborted) return;
      await delay(opts.rewatchMs ?? REWATCH_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  async function recheck(key: string): Promise<void> {
    try {
      const value = await read(key);
      for (const fn of listeners.get(key) ?? []) fn(value);
    } catch {
      // Still unreachable: the next watch start checks again.
    }
  }

  void watchLoop();

  return {
    get(key) {
      if (isLive && values.has(key)) {
        const value = values.get(key) ?? null;
        // Most recently read last: the first key of the map is the one to drop.
        values.delete(key);
        values.set(key, value);
        return Promise.resolve(value);
      }
      return read(key);
    },
    onChange(key, fn) {
      let set = listeners.get(key);
      if (!set) {
        set = new Set();
        listeners.set(key, set);
      }
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
      };
    },
    live: () => isLive,
    ready: () => firstLive,
    size: () => values.size,
    stop() {
      stopping.abort();
      goDown();
    },
  };
}
