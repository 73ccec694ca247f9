/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Whether the first bytes of a connection are (the start of) HTTP/2's
 * preface; anything else is handed to HTTP/1.1, whose parser answers 400 to
 * what it cannot read. A short read that matches so far counts as HTTP/2:
 * its session refuses a preface that goes wrong later.
 */
export function speaksHttp2(head: Uint8Array): boolean {
  const n = Math.min(head.length, H2_PREFACE.length);
  return n > 0 && H2_PREFACE.subarray(0, n).equals(head.subarray(0, n));
}
