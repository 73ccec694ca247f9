import { createHash } from "node:crypto";
import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { ObjectInfo } from "@nats-io/obj";
import type { BlobRange } from "./bus.js";

/** Chunks asked of the server at a time: with 256 KiB chunks, about 1 MiB held per reader. */
export const BLOB_READ_AHEAD_CHUNKS = 4;

/** How long one batch of chunks may take to arrive before the read fails (the object went away, NATS is down). */
const BATCH_EXPIRES_MS = 10_000;

/**
 * Reads `range` of an object of a JetStream object store in batches of a few chunk messages, each batch
 * fetched only once the consumer of the iterable has taken the last, so a reader that stops pulling holds
 * at most one batch. (`@nats-io/obj`'s own `get` pours every chunk into a stream without back-pressure.)
 *
 * The store writes an object as `info.chunks` messages of `max_chunk_size` bytes (the last shorter) on
 * `$O.<bucket>.C.<nuid>`, then its meta message (sequence `info.revision`). So chunk k is at sequence
 * `revision - chunks + k` unless another object's messages were written between its chunks; each
 * delivered message says how many of the object's chunks follow it (`pending`), which gives its index
 * and tells a wrong guess, after which the read starts from the object's first chunk and skips.
 * A whole read is checked against the object's SHA-256 digest, as `@nats-io/obj` checks it.
 */
export async function* readObjectRange(
  js: JetStreamClient,
  bucket: string,
  info: ObjectInfo,
  range: BlobRange | undefined,
): AsyncGenerator<Uint8Array> {
  const offset = range?.offset ?? 0;
  const end = Math.min(info.size, range?.length === undefined ? info.size : offset + range.length);
  if (offset >= end) return;
  const chunkSize = info.options?.max_chunk_size ?? 0;
  if (!(chunkSize > 0)) throw new Error(`object ${info.name} has no chunk size`);
  const first = Math.floor(offset / chunkSize);
  const last = Math.floor((end - 1) / chunkSize);
  const whole = offset === 0 && end === info.size;
  const sha = whole ? createHash("sha256") : undefined;
  const subject = `$O.${bucket}.C.${info.nuid}`;
  const stream = `OBJ_${bucket}`;

  const open = (startSeq: number | undefined) =>
    js.consumers.get(stream, {
      filter_subjects: subject,
      ...(startSeq === undefined
        ? { deliver_policy: DeliverPolicy.All }
        : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }),
    });
  let guess: number | undefined = first > 0 ? Math.max(1, info.revision - info.chunks + first) : undefined;
  let consumer = await open(guess);
  try {
    let next = first;
    while (next <= last) {
      const want = Math.min(BLOB_READ_AHEAD_CHUNKS, last - next + 1);
      const batch: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: want, expires: BATCH_EXPIRES_MS })) {
        batch.push(m);
        if (batch.length === want) break;
      }
      const landed = batch[0] ? info.chunks - 1 - batch[0].info.pending : -1;
      if (guess !== undefined && landed !== next) {
        // Another object's messages sit between this one's chunks: read from its first chunk and skip.
        guess = undefined;
        await consumer.delete().catch(() => undefined);
        consumer = await open(undefined);
        next = 0;
        continue;
      }
      guess = undefined;
      for (const m of batch) {
        const index = info.chunks - 1 - m.info.pending;
        if (index !== next) throw new Error(`object ${info.name}: chunk ${index} arrived where ${next} was due`);
        next = index + 1;
        if (index < first) continue;
        if (index < info.chunks - 1 && m.data.length !== chunkSize) {
          throw new Error(`object ${info.name}: chunk ${index} holds ${m.data.length} bytes, not ${chunkSize}`);
        }
        sha?.update(m.data);
        const at = index * chunkSize;
        const from = Math.max(offset - at, 0);
        const to = Math.min(end - at, m.data.length);
        yield from === 0 && to === m.data.length ? m.data : m.data.subarray(from, to);
      }
      if (batch.length < want) {
        throw new Error(`object ${info.name}: chunks stopped arriving at ${next} of ${info.chunks}`);
      }
    }
    if (sha && !sha.digest().equals(Buffer.from(info.digest.replace(/^SHA-256=/, ""), "base64url"))) {
      throw new Error(`object ${info.name} is corrupt: its digest does not match`);
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
