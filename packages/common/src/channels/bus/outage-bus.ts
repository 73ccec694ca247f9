import type { Bus } from "./bus.js";

export interface OutageBus {
  readonly bus: Bus;
  /** While down, stream publishes, blob writes and key-value reads and writes fail as they do when NATS is unreachable. */
  setDown(down: boolean): void;
  /** Writes refused so far. */
  failedWrites(): number;
}

/** Wraps a bus (the memory bus, in tests) so that a test can cut the writes off and bring them back. */
export function createOutageBus(inner: Bus): OutageBus {
  let down = false;
  let failed = 0;
  const refuse = (): Promise<never> => {
    failed++;
    return Promise.reject(new Error("TIMEOUT: NATS unreachable"));
  };
  const bus: Bus = {
    ...inner,
    publish: (...args) => (down ? refuse() : inner.publish(...args)),
    async kv(spec) {
      const kv = await inner.kv(spec);
      const cut =
        <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
        (...a: A): Promise<R> =>
          down ? refuse() : fn(...a);
      return {
        ...kv,
        get: cut(kv.get),
        put: cut(kv.put),
        create: cut(kv.create),
        update: cut(kv.update),
        delete: cut(kv.delete),
        keys: cut(kv.keys),
        size: cut(kv.size),
        async *entries() {
          if (down) await refuse();
          yield* kv.entries();
        },
      };
    },
    async blobs(spec) {
      const store = await inner.blobs(spec);
      return { ...store, put: (name, data) => (down ? refuse() : store.put(name, data)) };
    },
  };
  return {
    bus,
    setDown(d) {
      down = d;
    },
    failedWrites: () => failed,
  };
}
