import { createHash } from "node:crypto";
import { type Context, context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import type {
  BlobStore,
  BucketSpec,
  Bus,
  ConsumerSpec,
  KvBucket,
  KvChange,
  KvEntry,
  RawDelivery,
  RawInbox,
  StreamSpec,
  Unsubscribe,
} from "./bus.js";
import { checkBlobRange, subjectMatches } from "./bus.js";

/**
 * The Bus in one process, for tests of use cases and whole services: the
 * semantics the mesh relies on are kept (message-id dedupe within the window,
 * ack wait and redelivery, `working()`, max deliveries, nak delays, KV
 * compare-and-swap and watches, TTLs), the durability is not. `clock` lets a
 * test move time for TTLs and the duplicate window.
 */
export interface MemoryBus extends Bus {
  /** What a stream holds now (work queues: not yet acknowledged), for assertions. */
  streamMessages(stream: string): { subject: string; data: Uint8Array }[];
}

interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  taskId: string | undefined;
  carrier: Record<string, string>;
}

interface MemoryStream {
  spec: StreamSpec;
  messages: Map<number, StoredMessage>;
  seen: Map<string, number>;
  consumers: Map<string, MemoryConsumer>;
}

export interface MemoryBusOptions {
  /** Size limits in bytes of blob stores, by name, as on NATS (`mediaStoreLimits`). */
  storeLimits?: Readonly<Record<string, number>>;
}

export function createMemoryBus(clock: () => number = Date.now, opts: MemoryBusOptions = {}): MemoryBus {
  const streams = new Map<string, MemoryStream>();
  const subscribers = new Map<string, Set<(data: Uint8Array) => void>>();
  const responders = new Map<string, (data: Uint8Array) => Uint8Array>();
  const buckets = new Map<string, MemoryKv>();
  const blobStores = new Map<string, BlobStore>();
  let seq = 0;

  const streamOf = (spec: StreamSpec): MemoryStream => {
    let s = streams.get(spec.name);
    if (!s) {
      s = { spec, messages: new Map(), seen: new Map(), consumers: new Map() };
      streams.set(spec.name, s);
    }
    return s;
  };

  return {
    async publish(spec, subject, data, opts) {
      const s = streamOf(spec);
      if (!spec.subjects.some((f) => subjectMatches(f, subject))) throw new Error(`no stream for ${subject}`);
      const now = clock();
      for (const [id, at] of s.seen) if (now - at > spec.duplicateWindowMs) s.seen.delete(id);
      if (opts.msgId !== undefined) {
        if (s.seen.has(opts.msgId)) return;
        s.seen.set(opts.msgId, now);
      }
      const carrier: Record<string, string> = {};
      propagation.inject(opts.ctx ?? context.active(), carrier);
      const msg: StoredMessage = { seq: ++seq, subject, data: data.slice(), taskId: opts.taskId, carrier };
      s.messages.set(msg.seq, msg);
      for (const c of s.consumers.values()) c.offer(msg);
      await Promise.resolve();
    },

    async inbox(spec) {
      const s = streamOf(spec.stream);
      let c = s.consumers.get(spec.durable);
      if (!c) {
        c = new MemoryConsumer(spec, (m) => {
          if (spec.stream.retention === "workqueue") s.messages.delete(m.seq);
        });
        s.consumers.set(spec.durable, c);
        for (const m of s.messages.values()) c.offer(m);
      }
      return c;
    },

    async backlog(spec) {
      return streams.get(spec.stream.name)?.consumers.get(spec.durable)?.backlog() ?? null;
    },

    broadcast(subject, data) {
      for (const cb of subscribers.get(subject) ?? []) {
        // Core NATS delivers asynchronously; so does this.
        queueMicrotask(() => {
          try {
            cb(data.slice());
          } catch {
            // As on NATS, a subscriber's failure is its own.
          }
        });
      }
    },

    subscribe(subject, onMessage): Unsubscribe {
      const set = subscribers.get(subject) ?? new Set();
      subscribers.set(subject, set);
      set.add(onMessage);
      return { unsubscribe: () => set.delete(onMessage) };
    },

    async request(subject, data) {
      const answer = responders.get(subject);
      if (!answer) throw new Error("503: no responders");
      await Promise.resolve();
      return answer(data.slice());
    },

    reply(subject, answer) {
      responders.set(subject, answer);
      return {
        unsubscribe: () => {
          if (responders.get(subject) === answer) responders.delete(subject);
        },
      };
    },

    async kv(spec) {
      let b = buckets.get(spec.name);
      if (!b) {
        b = memoryKv(spec, clock);
        buckets.set(spec.name, b);
      } else if (spec.applyTtl) {
        b.setTtl(spec.ttlMs);
      }
      return b;
    },

    async blobs(spec) {
      let b = blobStores.get(spec.name);
      if (!b) {
        b = memoryBlobs(opts.storeLimits?.[spec.name] ?? 0);
        blobStores.set(spec.name, b);
      }
      return b;
    },

    async close() {
      for (const s of streams.values()) for (const c of s.consumers.values()) c.close();
    },

    streamMessages(stream) {
      return [...(streams.get(stream)?.messages.values() ?? [])].map((m) => ({ subject: m.subject, data: m.data }));
    },
  };
}

/** A durable pull consumer: ready messages, deliveries in flight with their ack timers, delayed naks. */
class MemoryConsumer implements RawInbox {
  private readonly ready: StoredMessage[] = [];
  private readonly counts = new Map<number, number>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly waiters: ((m: StoredMessage | null) => void)[] = [];
  private closed = false;

  constructor(
    private readonly spec: ConsumerSpec,
    private readonly onDone: (m: StoredMessage) => void,
  ) {}

  offer(m: StoredMessage): void {
    if (!subjectMatches(this.spec.filter, m.subject)) return;
    this.enqueue(m);
  }

  backlog(): number {
    return this.ready.length + this.timers.size;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(null);
  }

  next(expiresMs: number): Promise<RawDelivery | null> {
    const m = this.ready.shift();
    if (m) return Promise.resolve(this.deliver(m));
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (got: StoredMessage | null): void => {
        clearTimeout(timer);
        resolve(got ? this.deliver(got) : null);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, expiresMs);
      // Not unref'd: a pending pull keeps the process alive, as a NATS pull does.
      this.waiters.push(waiter);
    });
  }

  private enqueue(m: StoredMessage): void {
    if (this.closed) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(m);
    else this.ready.push(m);
  }

  private deliver(m: StoredMessage): RawDelivery {
    const count = (this.counts.get(m.seq) ?? 0) + 1;
    this.counts.set(m.seq, count);
    let settled = false;
    const arm = (): void => {
      clearTimeout(this.timers.get(m.seq));
      const t = setTimeout(() => this.redeliver(m), this.spec.ackWaitMs);
      t.unref();
      this.timers.set(m.seq, t);
    };
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(this.timers.get(m.seq));
      this.timers.delete(m.seq);
      return true;
    };
    arm();
    return {
      subject: m.subject,
      data: m.data,
      deliveryCount: count,
      taskId: m.taskId,
      traceContext: extract(m.carrier),
      ack: () => {
        if (settle()) this.finish(m);
      },
      nak: (delayMs) => {
        if (!settle()) return;
        if (delayMs && delayMs > 0) {
          const t = setTimeout(() => {
            this.timers.delete(m.seq);
            this.retry(m);
          }, delayMs);
          t.unref();
          this.timers.set(m.seq, t);
        } else this.retry(m);
      },
      term: () => {
        if (settle()) this.finish(m);
      },
      working: () => {
        if (!settled) arm();
      },
    };
  }

  private redeliver(m: StoredMessage): void {
    this.timers.delete(m.seq);
    this.retry(m);
  }

  private retry(m: StoredMessage): void {
    const max = this.spec.maxDeliver;
    if (max > 0 && (this.counts.get(m.seq) ?? 0) >= max) {
      this.counts.delete(m.seq);
      return;
    }
    this.enqueue(m);
  }

  private finish(m: StoredMessage): void {
    this.counts.delete(m.seq);
    this.onDone(m);
  }
}

function extract(carrier: Record<string, string>): Context {
  return Object.keys(carrier).length === 0 ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier);
}

interface MemoryKv extends KvBucket {
  setTtl(ms: number): void;
}

function memoryKv(spec: BucketSpec, clock: () => number): MemoryKv {
  // As on JetStream, a changed TTL applies to the entries already stored.
  let ttlMs = spec.ttlMs;
  const entries = new Map<string, { value: Uint8Array; revision: number; at: number }>();
  const watchers = new Map<string, Set<(e: KvEntry | null) => void>>();
  const allWatchers = new Set<(c: KvChange) => void>();
  let revision = 0;

  const live = (key: string): { value: Uint8Array; revision: number } | null => {
    const e = entries.get(key);
    if (!e) return null;
    if (ttlMs > 0 && clock() - e.at > ttlMs) {
      entries.delete(key);
      return null;
    }
    return e;
  };
  const write = (key: string, value: Uint8Array): number => {
    const e = { value: value.slice(), revision: ++revision, at: clock() };
    entries.set(key, e);
    for (const w of watchers.get(key) ?? []) w({ value: e.value, revision: e.revision });
    for (const w of allWatchers) w({ key, entry: { value: e.value, revision: e.revision } });
    return e.revision;
  };

  return {
    setTtl(ms) {
      ttlMs = ms;
    },
    async get(key) {
      const e = live(key);
      return e ? { value: e.value, revision: e.revision } : null;
    },
    async put(key, value) {
      return write(key, value);
    },
    async create(key, value) {
      return live(key) ? null : write(key, value);
    },
    async update(key, value, rev) {
      const e = live(key);
      return e && e.revision === rev ? write(key, value) : null;
    },
    async delete(key, rev) {
      const e = live(key);
      if (!e || (rev !== undefined && e.revision !== rev)) return;
      entries.delete(key);
      revision++;
      for (const w of watchers.get(key) ?? []) w(null);
      for (const w of allWatchers) w({ key, entry: null });
    },
    async keys(filter) {
      return [...entries.keys()].filter((k) => live(k) && (filter === undefined || subjectMatches(filter, k)));
    },
    async *entries() {
      for (const key of [...entries.keys()]) {
        const e = live(key);
        if (e) yield { key, entry: { value: e.value, revision: e.revision } };
      }
    },
    async size() {
      return [...entries.keys()].filter((k) => live(k)).length;
    },
    watch(key, signal) {
      return watchKey(key, signal, () => live(key), watchers);
    },
    async changes(signal) {
      // Registered before this resolves, as the NATS consumer exists before its promise does.
      const queue: KvChange[] = [];
      let wake: (() => void) | undefined;
      const push = (c: KvChange): void => {
        queue.push(c);
        wake?.();
      };
      allWatchers.add(push);
      const onAbort = (): void => {
        allWatchers.delete(push);
        wake?.();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      return (async function* () {
        try {
          while (!signal.aborted) {
            const c = queue.shift();
            if (c) {
              yield c;
              continue;
            }
            await new Promise<void>((r) => {
              wake = r;
            });
            wake = undefined;
          }
        } finally {
          allWatchers.delete(push);
          signal.removeEventListener("abort", onAbort);
        }
      })();
    },
  };
}

async function* watchKey(
  key: string,
  signal: AbortSignal,
  currentOf: () => KvEntry | null,
  watchers: Map<string, Set<(e: KvEntry | null) => void>>,
): AsyncGenerator<KvEntry | null> {
  // Read when the watch starts (the first next()), not when it was created,
  // so no write in between is lost: the generator registers at this point too.
  const current = currentOf();
  const queue: (KvEntry | null)[] = current ? [{ value: current.value, revision: current.revision }] : [];
  let wake: (() => void) | undefined;
  const push = (e: KvEntry | null): void => {
    queue.push(e);
    wake?.();
  };
  const set = watchers.get(key) ?? new Set();
  watchers.set(key, set);
  set.add(push);
  const onAbort = (): void => wake?.();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
        continue;
      }
      yield queue.shift() ?? null;
    }
  } finally {
    set.delete(push);
    signal.removeEventListener("abort", onAbort);
  }
}

function memoryBlobs(maxBytes: number): BlobStore {
  const blobs = new Map<string, { data: Uint8Array; digest: string }>();
  const used = (): number => [...blobs.values()].reduce((n, b) => n + b.data.length, 0);
  const info = (b: { data: Uint8Array; digest: string }) => ({ size: b.data.length, digest: b.digest });
  return {
    async put(name, data) {
      const bytes = data instanceof Uint8Array ? data.slice() : await readAll(data);
      // As JetStream's discard-new: a full store refuses the object, it never drops old ones.
      const replaced = blobs.get(name)?.data.length ?? 0;
      if (maxBytes > 0 && used() - replaced + bytes.length > maxBytes) throw new Error("maximum bytes exceeded");
      const b = { data: bytes, digest: `SHA-256=${createHash("sha256").update(bytes).digest("base64url")}` };
      blobs.set(name, b);
      return info(b);
    },
    async get(name) {
      return blobs.get(name)?.data.slice() ?? null;
    },
    async info(name) {
      const b = blobs.get(name);
      return b ? info(b) : null;
    },
    async stream(name, range) {
      checkBlobRange(range);
      const b = blobs.get(name);
      if (!b) return null;
      const data = b.data;
      const start = range?.offset ?? 0;
      const end = Math.min(data.length, range?.length === undefined ? data.length : start + range.length);
      return (async function* () {
        for (let i = start; i < end; i += 64 * 1024) yield data.subarray(i, Math.min(i + 64 * 1024, end));
      })();
    },
    async delete(name) {
      blobs.delete(name);
    },
  };
}

async function readAll(rs: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = rs.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  // A plain Uint8Array, as NATS gives back: a Buffer's slice() is a view, not a copy.
  return new Uint8Array(Buffer.concat(parts));
}
