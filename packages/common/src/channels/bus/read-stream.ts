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
