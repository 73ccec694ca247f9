import type { Latents } from "../api-types.js";

// Binary form: "T2VL" | u16 version | u16 rank | u32 dims[rank] | f32 data (all little-endian).
// The header is a multiple of 4 bytes, so the data could be viewed in place when aligned.
const MAGIC = 0x4c563254; // "T2VL" read as little-endian u32
const VERSION = 1;

export function encodeLatents(l: Latents): Uint8Array {
  const count = l.dims.reduce((a, b) => a * b, 1);
  if (count !== l.data.length)
    throw new RangeError(`latents dims [${l.dims.join(", ")}] hold ${count} values, data has ${l.data.length}`);
  const header = 8 + 4 * l.dims.length;
  const out = new Uint8Array(header + 4 * count);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, VERSION, true);
  view.setUint16(6, l.dims.length, true);
  l.dims.forEach((d, i) => {
    view.setUint32(8 + 4 * i, d, true);
  });
  for (let i = 0; i < count; i++) view.setFloat32(header + 4 * i, l.data[i] ?? 0, true);
  return out;
}

export function decodeLatents(b: Uint8Array): Latents {
  if (b.byteLength < 8) throw new RangeError("latents blob too short");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new RangeError("not a latents blob (bad magic)");
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new RangeError(`unsupported latents blob version ${version}`);
  const rank = view.getUint16(6, true);
  const header = 8 + 4 * rank;
  if (b.byteLength < header) throw new RangeError("latents blob header truncated");
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(8 + 4 * i, true));
  const count = dims.reduce((a, d) => a * d, 1);
  if (b.byteLength !== header + 4 * count)
    throw new RangeError(`latents blob has ${b.byteLength} bytes, dims need ${header + 4 * count}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(header + 4 * i, true);
  return { dims, data };
}
