import { CHROMA_AC, CHROMA_DC, CHROMA_QUANT, type HuffmanSpec, LUMA_AC, LUMA_DC, LUMA_QUANT } from "./jpeg-tables.js";

// A small baseline (sequential DCT, Huffman) JPEG encoder: YCbCr 4:4:4, standard tables. Written
// here instead of using jpeg-js's encoder, which rebuilds ~65k-entry tables on every call
// (~20 ms for a 208x120 preview, a sixth of a 480p step on 2 cores); this one builds its tables
// once per process and encodes such a preview in about a millisecond.

interface Code {
  code: Int32Array;
  length: Int32Array;
}

function buildCodes(spec: HuffmanSpec): Code {
  const code = new Int32Array(256);
  const length = new Int32Array(256);
  let next = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < (spec.counts[len - 1] ?? 0); i++) {
      const symbol = spec.symbols[k++] ?? 0;
      code[symbol] = next++;
      length[symbol] = len;
    }
    next <<= 1;
  }
  return { code, length };
}

/** Zig-zag position -> natural (row-major) index. */
const NATURAL = (() => {
  const out: number[] = [];
  for (let s = 0; s < 15; s++) {
    const cells: number[] = [];
    for (let y = 0; y < 8; y++) if (s - y >= 0 && s - y < 8) cells.push(y * 8 + (s - y));
    if (s % 2 === 0) cells.reverse();
    out.push(...cells);
  }
  return out;
})();

/** DCT basis: BASIS[u * 8 + x] = C(u)/2 cos((2x + 1) u pi / 16). */
const BASIS = Float64Array.from({ length: 64 }, (_, i) => {
  const u = i >> 3;
  const x = i & 7;
  return (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});

const CODES = {
  lumaDc: buildCodes(LUMA_DC),
  lumaAc: buildCodes(LUMA_AC),
  chromaDc: buildCodes(CHROMA_DC),
  chromaAc: buildCodes(CHROMA_AC),
};

/** IJG quality scaling of a base table, 1..100. */
function scaleTable(base: number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  return Int32Array.from(base, (v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

class ByteSink {
  private buf: Uint8Array;
  length = 0;
  private acc = 0;
  private bits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  byte(b: number): void {
    if (this.length === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = b;
  }

  u16(v: number): void {
    this.byte(v >> 8);
    this.byte(v & 255);
  }

  bytes(bs: ArrayLike<number>): void {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i] as number);
  }

  /** Entropy-coded bits, most significant first, with a 0x00 stuffed after every 0xFF. */
  write(value: number, count: number): void {
    this.acc = (this.acc << count) | (value & ((1 << count) - 1));
    this.bits += count;
    while (this.bits >= 8) {
      const b = (this.acc >> (this.bits - 8)) & 255;
      this.byte(b);
      if (b === 255) this.byte(0);
      this.bits -= 8;
    }
    this.acc &= (1 << this.bits) - 1;
  }

  /** Pads the last byte with 1-bits, as the standard asks. */
  flushBits(): void {
    if (this.bits > 0) this.write(0x7f, 8 - this.bits);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function bitLength(v: number): number {
  return v === 0 ? 0 : 32 - Math.clz32(v);
}

/** Encodes row-major rgb24 pixels as a baseline JFIF JPEG. */
export function encodeBaselineJpeg(rgb: Uint8Array, width: number, height: number, quality: number): Uint8Array {
  if (rgb.length !== width * height * 3)
    throw new RangeError(`rgb has ${rgb.length} bytes, ${width}x${height} needs ${width * height * 3}`);
  if (width < 1 || height < 1 || width > 65535 || height > 65535)
    throw new RangeError(`bad JPEG size ${width}x${height}`);
  const luma = scaleTable(LUMA_QUANT, quality);
  const chroma = scaleTable(CHROMA_QUANT, quality);
  const out = new ByteSink(1024 + width * height);
  out.u16(0xffd8);
  out.u16(0xffe0);
  out.u16(16);
  out.bytes([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  out.u16(0xffdb);
  out.u16(2 + 2 * 65);
  out.byte(0);
  for (let k = 0; k < 64; k++) out.byte(luma[NATURAL[k] as number] as number);
  out.byte(1);
  for (let k = 0; k < 64; k++) out.byte(chroma[NATURAL[k] as number] as number);
  out.u16(0xffc0);
  out.u16(17);
  out.byte(8);
  out.u16(height);
  out.u16(width);
  out.bytes([3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  const tables: Array<[number, HuffmanSpec]> = [
    [0x00, LUMA_DC],
    [0x10, LUMA_AC],
    [0x01, CHROMA_DC],
    [0x11, CHROMA_AC],
  ];
  out.u16(0xffc4);
  out.u16(2 + tables.reduce((a, [, t]) => a + 17 + t.symbols.length, 0));
  for (const [id, t] of tables) {
    out.byte(id);
    out.bytes(t.counts);
    out.bytes(t.symbols);
  }
  out.u16(0xffda);
  out.u16(12);
  out.bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);

  const planes = [new Float64Array(64), new Float64Array(64), new Float64Array(64)];
  const tmp = new Float64Array(64);
  const coef = new Float64Array(64);
  const prevDc = [0, 0, 0];
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      // Level-shifted YCbCr of the block; edge pixels repeat past the image border.
      for (let y = 0; y < 8; y++) {
        const sy = Math.min(by + y, height - 1);
        for (let x = 0; x < 8; x++) {
          const at = (sy * width + Math.min(bx + x, width - 1)) * 3;
          const r = rgb[at] as number;
          const g = rgb[at + 1] as number;
          const b = rgb[at + 2] as number;
          const i = y * 8 + x;
          (planes[0] as Float64Array)[i] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
          (planes[1] as Float64Array)[i] = -0.168736 * r - 0.331264 * g + 0.5 * b;
          (planes[2] as Float64Array)[i] = 0.5 * r - 0.418688 * g - 0.081312 * b;
        }
      }
      for (let c = 0; c < 3; c++) {
        const block = planes[c] as Float64Array;
        // Separable 2D DCT: rows, then columns.
        for (let y = 0; y < 8; y++) {
          for (let u = 0; u < 8; u++) {
            let s = 0;
            for (let x = 0; x < 8; x++) s += (BASIS[u * 8 + x] as number) * (block[y * 8 + x] as number);
            tmp[y * 8 + u] = s;
          }
        }
        for (let u = 0; u < 8; u++) {
          for (let v = 0; v < 8; v++) {
            let s = 0;
            for (let y = 0; y < 8; y++) s += (BASIS[v * 8 + y] as number) * (tmp[y * 8 + u] as number);
            coef[v * 8 + u] = s;
          }
        }
        const q = c === 0 ? luma : chroma;
        const dc = c === 0 ? CODES.lumaDc : CODES.chromaDc;
        const ac = c === 0 ? CODES.lumaAc : CODES.chromaAc;
        const dcValue = Math.round((coef[0] as number) / (q[0] as number));
        writeValue(out, dc, 0, dcValue - (prevDc[c] as number));
        prevDc[c] = dcValue;
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const n = NATURAL[k] as number;
          const v = Math.round((coef[n] as number) / (q[n] as number));
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            out.write(ac.code[0xf0] as number, ac.length[0xf0] as number);
            run -= 16;
          }
          writeValue(out, ac, run << 4, v);
          run = 0;
        }
        if (run > 0) out.write(ac.code[0] as number, ac.length[0] as number);
      }
    }
  }
  out.flushBits();
  out.u16(0xffd9);
  return out.result();
}

/** Huffman code of (prefix | category), then the value's category bits (negatives as v - 1, one's complement). */
function writeValue(out: ByteSink, table: Code, prefix: number, v: number): void {
  const size = bitLength(Math.abs(v));
  const symbol = prefix | size;
  out.write(table.code[symbol] as number, table.length[symbol] as number);
  if (size > 0) out.write(v < 0 ? v - 1 : v, size);
}
