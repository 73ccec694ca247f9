/**
 * True when every message in a binary request body parses. `enveloped`
 * bodies (gRPC, gRPC-Web, Connect streaming) are 5-byte-prefixed frames;
 * compressed frames of a request that declares an encoding (`encoded`) and
 * broken framing are left to the protocol handler, which answers those
 * itself with a client error. A compressed frame without an encoding is
 * malformed (connect-es would answer INTERNAL).
 */
export function binaryBodyParses(
  body: Uint8Array,
  enveloped: boolean,
  parse: (m: Uint8Array) => void,
  encoded: boolean,
): boolean {
  const tryParse = (m: Uint8Array): boolean => {
    try {
      parse(m);
      return true;
    } catch {
      return false;
    }
  };
  if (!enveloped) return tryParse(body);
  let at = 0;
  while (at + 5 <= body.length) {
    const flags = body[at] ?? 0;
    const len =
      ((body[at + 1] ?? 0) << 24) | ((body[at + 2] ?? 0) << 16) | ((body[at + 3] ?? 0) << 8) | (body[at + 4] ?? 0);
    const end = at + 5 + (len >>> 0);
    if (end > body.length) return true;
    // Flag 0x02 is Connect's end-of-stream frame (JSON); 0x01 means compressed.
    if ((flags & 0x01) !== 0 && !encoded) return false;
    if ((flags & 0x03) === 0 && !tryParse(body.subarray(at + 5, end))) return false;
    at = end;
  }
  return true;
}
