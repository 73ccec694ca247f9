import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions, KvWatchInclude } from "@nats-io/kv";
import { type MsgHdrs, type NatsConnection, nanos, headers as natsHeaders } from "@nats-io/nats-core";
import { Objm } from "@nats-io/obj";
import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { TASK_ID_HEADER } from "../../telemetry/attributes.js";
import {
  type BlobStore,
  type Bus,
  type ConsumerSpec,
  checkBlobRange,
  type KvBucket,
  type KvEntry,
  type RawDelivery,
  type RawInbox,
  type StreamSpec,
} from "./bus.js";
import { type InFlightLimit, inFlightLimit } from "./in-flight-limit.js";
import { readObjectRange } from "./nats-blob-read.js";
import { readStream, skipTo } from "./read-stream.js";

export interface NatsBusOptions {
  /** Replicas of every stream, bucket and blob store this bus creates (3 on a three-node cluster). */
  replicas?: number;
  /** Size limits in bytes of blob stores, by name (`mediaStoreLimits`); others have none of their own. */
  storeLimits?: Readonly<Record<string, number>>;
}

/** KV gets one connection has in flight at once; each is one request of about 0.5 ms on an idle server. */
const KV_READS_IN_FLIGHT = 128;
/** Reads waiting beyond this are refused at once: the callers' memory stays bounded through an outage. */
const KV_READS_WAITING = 50_000;
/** A read that waited this long for its turn is refused (NATS away, or far more asked than it serves). */
const KV_READ_MAX_WAIT_MS = 30_000;

/** The Bus on NATS JetStream: streams and pull consumers, core NATS subjects, KV buckets, object stores. */
export async function createNatsBus(nc: NatsConnection, opts: NatsBusOptions = {}): Promise<Bus> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const replicas = opts.replicas ?? 1;
  const streams = new Map<string, Promise<void>>();
  const consumers = new Map<string, Promise<void>>();
  const kvm = new Kvm(js);
  // Shared by every bucket of the connection: a burst of reads (thousands of WatchTask streams
  // opening at once) waits its turn here rather than timing out in the connection.
  const kvReads = inFlightLimit(KV_READS_IN_FLIGHT, { maxWaiting: KV_READS_WAITING, maxWaitMs: KV_READ_MAX_WAIT_MS });
  const objm = new Objm(js);

  const ensureStream = (spec: StreamSpec): Promise<void> => {
    let p = streams.get(spec.name);
    if (!p) {
      p = whileClusterSettles(() => ensureStreamOnce(jsm, spec, replicas));
      streams.set(spec.name, p);
      p.catch(() => streams.delete(spec.name));
    }
    return p;
  };
  const ensureConsumer = (spec: ConsumerSpec): Promise<void> => {
    const key = `${spec.stream.name}/${spec.durable}`;
    let p = consumers.get(key);
    if (!p) {
      p = ensureStream(spec.stream).then(() => whileClusterSettles(() => ensureConsumerOnce(jsm, spec)));
      consumers.set(key, p);
      p.catch(() => consumers.delete(key));
    }
    return p;
  };

  return {
    async publish(stream, subject, data, o) {
      await ensureStream(stream);
      await js.publish(subject, data, {
        headers: traceHeaders(o.taskId, o.ctx),
        ...(o.msgId !== undefined ? { msgID: o.msgId } : {}),
      });
    },

    async inbox(spec) {
      await ensureConsumer(spec);
      return natsInbox(js, jsm, spec);
    },

    async backlog(spec) {
      const info = await jsm.consumers.info(spec.stream.name, spec.durable).catch(() => null);
      return info ? info.num_pending + info.num_ack_pending : null;
    },

    broadcast(subject, data) {
      nc.publish(subject, data);
    },

    subscribe(subject, onMessage) {
      return nc.subscribe(subject, {
        // This callback runs inside the NATS client's reader: nothing may escape it,
        // or the connection stops reading.
        callback: (err, msg) => {
          if (err) return;
          try {
            onMessage(msg.data);
          } catch {
            // A handler's failure is its own; the reader goes on.
          }
        },
      });
    },

    async request(subject, data, timeoutMs) {
      return (await nc.request(subject, data, { timeout: timeoutMs })).data;
    },

    reply(subject, answer) {
      return nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          try {
            msg.respond(answer(msg.data));
          } catch {
            // No answer: the requester times out and carries on without one.
          }
        },
      });
    },

    async kv(spec) {
      const options: Partial<KvOptions> = {
        storage: "file",
        history: spec.history,
        replicas,
        // A direct get may be answered by a follower that has not applied the
        // latest write yet (nats-server#4710): with replicas, reads go to the
        // stream leader, so a record read after an update is that update.
        allow_direct: replicas === 1,
        ...(spec.ttlMs > 0 ? { ttl: spec.ttlMs } : {}),
      };
      const kv = await openOrCreate(() => kvm.create(spec.name, options));
      if (spec.applyTtl) await applyKvTtl(jsm, spec.name, spec.ttlMs);
      return natsKv(kv, kvReads, js, spec.name);
    },

    async blobs(spec) {
      const maxBytes = opts.storeLimits?.[spec.name] ?? 0;
      const store = await openOrCreate(() =>
        objm
          .create(spec.name, {
            storage: StorageType.File,
            replicas,
            ttl: nanos(spec.ttlMs),
            ...(maxBytes > 0 ? { max_bytes: maxBytes } : {}),
          })
          .catch((err: unknown) => {
            if (!/insufficient storage resources/i.test(String(err))) throw err;
            throw new Error(
              `object store ${spec.name}: JetStream cannot reserve its size limit of ${(maxBytes / 2 ** 30).toFixed(1)} GiB ` +
                "(the media stores' limits together must fit nats-server's max_file_store): lower LATENTS_STORE_MAX_GB, " +
                "CHECKPOINTS_STORE_MAX_GB or VIDEOS_STORE_MAX_GB, or give JetStream more storage",
              { cause: err },
            );
          }),
      );
      return natsBlobs(store, js, spec.name);
    },

    async close() {
      await nc.drain();
    },
  };
}

async function ensureStreamOnce(jsm: JetStreamManager, spec: StreamSpec, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(spec.name);
    return;
  } catch {
    // Missing: create it below.
  }
  await ignoringCreateRace(() =>
    jsm.streams.add({
      name: spec.name,
      subjects: [...spec.subjects],
      retention: spec.retention === "workqueue" ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(spec.maxAgeMs),
      duplicate_window: nanos(spec.duplicateWindowMs),
      num_replicas: replicas,
    }),
  );
}

/** A KV bucket is the stream KV_<name>; its TTL is the stream's max age (0: kept). */
async function applyKvTtl(jsm: JetStreamManager, bucket: string, ttlMs: number): Promise<void> {
  const stream = `KV_${bucket}`;
  const { config } = await jsm.streams.info(stream);
  const maxAge = nanos(ttlMs);
  if (config.max_age === maxAge) return;
  // JetStream refuses a duplicate window longer than the max age.
  const window = maxAge > 0 ? Math.min(config.duplicate_window, maxAge) : config.duplicate_window;
  await jsm.streams.update(stream, { ...config, max_age: maxAge, duplicate_window: window });
}

async function ensureConsumerOnce(jsm: JetStreamManager, spec: ConsumerSpec): Promise<void> {
  try {
    await jsm.consumers.info(spec.stream.name, spec.durable);
    return;
  } catch {
    // Missing: create it below.
  }
  await ignoringCreateRace(() =>
    jsm.consumers.add(spec.stream.name, {
      durable_name: spec.durable,
      filter_subject: spec.filter,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(spec.ackWaitMs),
      max_deliver: spec.maxDeliver,
      max_ack_pending: 1000,
    }),
  );
}

const MIN_PULL_MS = 1_000;

function natsInbox(js: JetStreamClient, jsm: JetStreamManager, spec: ConsumerSpec): RawInbox {
  let consumer: Awaited<ReturnType<JetStreamClient["consumers"]["get"]>> | null = null;
  return {
    async next(expiresMs) {
      consumer ??= await js.consumers.get(spec.stream.name, spec.durable);
      // The client refuses pulls shorter than a second; a shorter wait is a second here.
      const msg = await consumer.next({ expires: Math.max(expiresMs, MIN_PULL_MS) });
      return msg ? natsDelivery(msg, spec, jsm) : null;
    },
  };
}

function natsDelivery(msg: JsMsg, spec: ConsumerSpec, jsm: JetStreamManager): RawDelivery {
  return {
    subject: msg.subject,
    data: msg.data,
    deliveryCount: msg.info.deliveryCount,
    taskId: msg.headers?.get(TASK_ID_HEADER) || undefined,
    traceContext: contextFromHeaders(msg.headers),
    ack: () => msg.ack(),
    nak: (delayMs) => msg.nak(delayMs),
    term: (reason) => {
      msg.term(reason);
      // nats-server 2.9 keeps a terminated message of a work queue, counted as
      // pending for ever (backlog, hence dispatch slots); gone is what term means.
      if (spec.stream.retention === "workqueue") {
        jsm.streams.deleteMessage(spec.stream.name, msg.info.streamSequence, false).catch(() => undefined);
      }
    },
    working: () => msg.working(),
  };
}

function natsKv(kv: KV, reads: InFlightLimit, js: JetStreamClient, bucket: string): KvBucket {
  const conflictOrThrow = (err: unknown): null => {
    if (isConflict(err)) return null;
    throw err;
  };
  return {
    async get(key) {
      const e = await reads(() => kv.get(key));
      return e?.operation === "PUT" ? { value: e.value, revision: e.revision } : null;
    },
    put: (key, value) => kv.put(key, value),
    create: (key, value) => kv.create(key, value).catch(conflictOrThrow),
    update: (key, value, revision) => kv.update(key, value, revision).catch(conflictOrThrow),
    async delete(key, revision) {
      // A delete at a stale revision changes nothing, as in memory; it is not an error.
      await kv.delete(key, revision !== undefined ? { previousSeq: revision } : undefined).catch(conflictOrThrow);
    },
    keys: (filter) =>
      // Listing reads through a consumer of its own, whose creation can go unanswered while a node is down.
      whileClusterSettles(async () => {
        const out: string[] = [];
        const it = await kv.keys(filter);
        // The listing ends on its last key or the consumer's idle heartbeat; should neither come,
        // it fails (and is tried again) rather than hold its caller, a periodic job, for ever.
        const deadline = setTimeout(() => it.stop(new Error("timeout listing keys")), KEYS_TIMEOUT_MS);
        try {
          for await (const k of it) out.push(k);
        } finally {
          clearTimeout(deadline);
        }
        return out;
      }),
    entries: () => readEntries(js, bucket),
    async size() {
      const status = await whileClusterSettles(() => kv.status());
      // Keys (the last entry of each, a delete's marker included), not every revision kept.
      return status.streamInfo.state.num_subjects ?? status.values;
    },
    async *watch(key, signal) {
      const it = await whileClusterSettles(() => kv.watch({ key, include: KvWatchInclude.LastValue }));
      const stop = (): void => it.stop();
      signal.addEventListener("abort", stop, { once: true });
      try {
        for await (const e of it) {
          if (signal.aborted) break;
          const entry: KvEntry | null = e.operation === "PUT" ? { value: e.value, revision: e.revision } : null;
          yield entry;
        }
      } finally {
        signal.removeEventListener("abort", stop);
        it.stop();
      }
    },
    async changes(signal) {
      // Resolved once the consumer exists: later writes reach it.
      const it = await kv.watch({ key: ">", include: KvWatchInclude.UpdatesOnly });
      const stop = (): void => it.stop();
      signal.addEventListener("abort", stop, { once: true });
      if (signal.aborted) it.stop();
      return (async function* () {
        try {
          for await (const e of it) {
            if (signal.aborted) break;
            yield { key: e.key, entry: e.operation === "PUT" ? { value: e.value, revision: e.revision } : null };
          }
        } finally {
          signal.removeEventListener("abort", stop);
          it.stop();
        }
      })();
    },
  };
}

/** A pass over a bucket fails when no entry came for this long (a node gone mid-pass; the caller tries again). */
const ENTRIES_IDLE_MS = 10_000;

/** The last value of every key of KV bucket `bucket`, through an ordered consumer of its own. */
async function* readEntries(js: JetStreamClient, bucket: string): AsyncGenerator<{ key: string; entry: KvEntry }> {
  const prefix = `$KV.${bucket}.`;
  const { consumer, pending } = await whileClusterSettles(async () => {
    const c = await js.consumers.get(`KV_${bucket}`, {
      filter_subjects: `${prefix}>`,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    return { consumer: c, pending: (await c.info()).num_pending };
  });
  if (pending === 0) return;
  const messages = await consumer.consume({ max_messages: 1_000 });
  // Time the caller spends on an entry is not the bucket's silence.
  let handling = false;
  const idle: NodeJS.Timeout = setTimeout(() => {
    if (handling) idle.refresh();
    else messages.stop(new Error(`no entry of ${bucket} came for ${ENTRIES_IDLE_MS} ms`));
  }, ENTRIES_IDLE_MS);
  try {
    for await (const m of messages) {
      const op = m.headers?.get(KV_OPERATION_HEADER);
      if (op !== "DEL" && op !== "PURGE") {
        handling = true;
        yield { key: m.subject.slice(prefix.length), entry: { value: m.data, revision: m.seq } };
        handling = false;
      }
      if (m.info.pending === 0) break;
      idle.refresh();
    }
  } finally {
    clearTimeout(idle);
    messages.stop();
  }
}

/** Where a KV delete or purge marker says what it is (nats.js does not export its name). */
const KV_OPERATION_HEADER = "KV-Operation";

function natsBlobs(store: Awaited<ReturnType<Objm["create"]>>, js: JetStreamClient, bucket: string): BlobStore {
  return {
    async put(name, data) {
      const info =
        data instanceof Uint8Array
          ? await store.putBlob({ name }, data)
          : await store.put({ name, options: { max_chunk_size: 256 * 1024 } }, data);
      return { size: info.size, digest: info.digest };
    },
    get: (name) => whileClusterSettles(() => store.getBlob(name)),
    async info(name) {
      const info = await store.info(name);
      return info && !info.deleted ? { size: info.size, digest: info.digest } : null;
    },
    async stream(name, range) {
      checkBlobRange(range);
      const info = await whileClusterSettles(() => store.info(name));
      if (!info || info.deleted) return null;
      if (info.options?.link) {
        // Links are never written by the mesh; read them as the library does.
        const obj = await store.get(name);
        return obj ? skipTo(readStream(obj.data), range) : null;
      }
      return readObjectRange(js, bucket, info, range);
    },
    async delete(name) {
      // The library rewrites and purges an object already deleted: settling an ended task deletes
      // every attempt's latents, most of them gone already, so only a live object costs the writes.
      const info = await store.info(name);
      if (info && !info.deleted) await store.delete(name);
    },
  };
}

/** A compare-and-swap that lost: the key exists, or is no longer at the expected revision. */
export function isConflict(err: unknown): boolean {
  if (err instanceof JetStreamApiError) {
    return (
      err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
    );
  }
  // The KV client reports some conflicts as plain errors.
  return /wrong last sequence|key exists/i.test(String(err));
}

/** Two services starting together may both try to create; the loser's error is harmless. */
async function ignoringCreateRace(add: () => Promise<unknown>): Promise<void> {
  try {
    await add();
  } catch (err) {
    if (!/already in use|already exists/i.test(String(err))) throw err;
  }
}

/** The loser of a create race opens the winner's bucket on its second try. */
async function openOrCreate<T>(open: () => Promise<T>): Promise<T> {
  return whileClusterSettles(async () => {
    try {
      return await open();
    } catch (err) {
      if (!/already in use|already exists/i.test(String(err))) throw err;
      return open();
    }
  });
}

const SETTLE_TRIES = 3;
const SETTLE_DELAY_MS = 500;
/** The longest a key listing may take: five of its consumer's idle heartbeats (5 s each). */
const KEYS_TIMEOUT_MS = 25_000;

/**
 * On a cluster a JetStream API request can go unanswered, or be refused as
 * temporarily unavailable, while a leader is being elected (a node just
 * restarted, several services creating the same bucket at once): such a
 * request is tried again a few times before the error is the caller's.
 */
async function whileClusterSettles<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= SETTLE_TRIES || !/timeout|temporarily unavailable|no suitable peers/i.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, SETTLE_DELAY_MS * i));
    }
  }
}

/** NATS headers carrying the trace context (W3C traceparent) and the task id. */
function traceHeaders(taskId: string | undefined, ctx = context.active()): MsgHdrs {
  const h = natsHeaders();
  propagation.inject(ctx, h, { set: (carrier, key, value) => carrier.set(key, value) });
  if (taskId) h.set(TASK_ID_HEADER, taskId);
  return h;
}

function contextFromHeaders(h: MsgHdrs | undefined) {
  if (!h) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, h, {
    get: (carrier, key) => carrier.get(key) || undefined,
    keys: (carrier) => carrier.keys(),
  });
}
