import { endianness } from "node:os";
import { crc32 } from "node:zlib";
import type { Checkpoint } from "../api-types.js";

// Binary form of a Checkpoint, for an object store (all little-endian):
//   "T2VC" | u16 version | u16 0 | u32 metaBytes | meta JSON (UTF-8, zero-padded to 4) |
//   f32 latents | u32 CRC-32 of every byte before it
// The metadata is JSON so fields can be added without a new layout; the version changes only
// when the layout or the meaning of a field does. The CRC catches truncated or damaged objects:
// resuming from flipped bits would silently produce another clip.
const MAGIC = 0x43563254; // "T2VC" read as little-endian u32
const VERSION = 1;
const FIXED = 12;
const LITTLE_ENDIAN = endianness() === "LE";

interface CheckpointMeta {
  specHash: string;
  model: string;
  modelVersion: string;
  step: number;
  totalSteps: number;
  dims: number[];
  denoiseSeconds: number;
}

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const { dims, data } = c.latents;
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`checkpoint dims [${dims.join(", ")}] hold ${count} values, data has ${data.length}`);
  const meta: CheckpointMeta = {
    specHash: c.specHash,
    model: c.model,
    modelVersion: c.modelVersion,
    step: c.step,
    totalSteps: c.totalSteps,
    dims: [...dims],
    denoiseSeconds: c.denoiseSeconds,
  };
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const dataAt = FIXED + pad4(json.length);
  const out = new Uint8Array(dataAt + 4 * count + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, FIXED);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dataAt);
  else for (let i = 0; i < count; i++) view.setFloat32(dataAt + 4 * i, data[i] ?? 0, true);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

export function decodeCheckpoint(b: Uint8Array): Checkpoint {
  if (b.byteLength < FIXED + 4) throw new RangeError("checkpoint blob too short");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new RangeError("not a checkpoint blob (bad magic)");
  const version = view.getUint16(4, true);
  if (version !== VERSION) throw new RangeError(`unsupported checkpoint blob version ${version}`);
  // Checked before parsing anything else, so every later failure is a writer bug, not damage.
  const stored = view.getUint32(b.byteLength - 4, true);
  if (crc32(b.subarray(0, b.byteLength - 4)) !== stored)
    throw new RangeError("checkpoint blob is corrupt (checksum mismatch)");
  const metaBytes = view.getUint32(8, true);
  const dataAt = FIXED + pad4(metaBytes);
  if (dataAt + 4 > b.byteLength) throw new RangeError("checkpoint blob header truncated");
  const meta = parseMeta(new TextDecoder().decode(b.subarray(FIXED, FIXED + metaBytes)));
  const count = meta.dims.reduce((a, d) => a * d, 1);
  if (b.byteLength !== dataAt + 4 * count + 4)
    throw new RangeError(`checkpoint blob has ${b.byteLength} bytes, its dims need ${dataAt + 4 * count + 4}`);
  const data = new Float32Array(count);
  // Copied into a fresh (aligned) array: the blob may be an unaligned view into a larger buffer.
  if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(b.subarray(dataAt, dataAt + 4 * count));
  else for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataAt + 4 * i, true);
  return {
    specHash: meta.specHash,
    model: meta.model,
    modelVersion: meta.modelVersion,
    step: meta.step,
    totalSteps: meta.totalSteps,
    latents: { dims: meta.dims, data },
    denoiseSeconds: meta.denoiseSeconds,
  };
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function parseMeta(text: string): CheckpointMeta {
  const v: unknown = JSON.parse(text);
  if (typeof v !== "object" || v === null) throw new RangeError("checkpoint metadata is not an object");
  const o = v as Record<string, unknown>;
  const str = (k: string): string => {
    const x = o[k];
    if (typeof x !== "string") throw new RangeError(`checkpoint metadata field ${k} must be a string`);
    return x;
  };
  const int = (k: string): number => {
    const x = o[k];
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0)
      throw new RangeError(`checkpoint metadata field ${k} must be a non-negative integer`);
    return x;
  };
  const dims = o.dims;
  if (!Array.isArray(dims) || !dims.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0))
    throw new RangeError("checkpoint metadata field dims must be non-negative integers");
  const seconds = o.denoiseSeconds;
  if (typeof seconds !== "number" || !Number.isFinite(seconds))
    throw new RangeError("checkpoint metadata field denoiseSeconds must be a number");
  return {
    specHash: str("specHash"),
    model: str("model"),
    modelVersion: str("modelVersion"),
    step: int("step"),
    totalSteps: int("totalSteps"),
    dims: dims as number[],
    denoiseSeconds: seconds,
  };
}
