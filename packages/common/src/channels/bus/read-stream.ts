import type { BlobRange } from "./bus.js";

/** A web ReadableStream as async chunks; cancelling it when the consumer stops early frees the connection. */
export async function* readStream(rs: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = rs.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The bytes of `range` out of chunks that start at offset 0 (for stores that cannot seek). */
export async function* skipTo(
  chunks: AsyncIterable<Uint8Array>,
  range: BlobRange | undefined,
): AsyncGenerator<Uint8Array> {
  const start = range?.offset ?? 0;
  const end = range?.length === undefined ? Number.POSITIVE_INFINITY : start + range.length;
  if (start >= end) return;
  let at = 0;
  for await (const c of chunks) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end - at, c.length);
    at += c.length;
    if (to > from) yield from === 0 && to === c.length ? c : c.subarray(from, to);
    if (at >= end) return;
  }
}
