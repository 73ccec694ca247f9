import type { Decoder, Latents } from "../api-types.js";
import { smoothPlanes } from "../runtime/latent-preview.js";

export interface DerivedPreviewFactors {
  latentRgbFactors: number[][];
  latentRgbBias: number[];
  /** Root-mean-square error of the fitted preview against the decoded blocks, in 0..255 levels. */
  rmse: number;
}

const TEMPORAL = 4;

/**
 * Fits the latent-to-RGB map a preview uses to what the VAE decoder does with real latents:
 * every latent pixel of every latent frame of the given clips (after the preview's `smoothing`)
 * is one sample, and its target is the mean colour of the pixel block it decodes to, in logit
 * space (the decoder ends in sigmoid x 255, so the preview applies a sigmoid too). Latent frame
 * f > 0 decodes exactly to video frame 4f (the causal temporal upsampler ends each group of four
 * on the new frame), frame 0 to frame 0. Real clips, not synthetic probes: the decoder's SiLU
 * runs before its low-pass, so noise-like latents shift the mean colour, and only real latents
 * show by how much.
 */
export async function derivePreviewFactors(
  decoder: Decoder,
  clips: Array<{ latents: Latents; width: number; height: number }>,
  smoothing: readonly number[],
): Promise<DerivedPreviewFactors> {
  const channels = clips[0]?.latents.dims[0] ?? 0;
  const p = channels + 1;
  const xtx = Array.from({ length: p }, () => new Float64Array(p));
  const xty = Array.from({ length: 3 }, () => new Float64Array(p));
  const samples: Array<{ z: Float64Array; rgb: number[] }> = [];
  for (const clip of clips) {
    const [, frames = 0, lh = 0, lw = 0] = clip.latents.dims;
    const smoothed = clip.latents.data.slice();
    if (smoothing.length > 1) smoothPlanes(smoothed, channels * frames, lh, lw, [...smoothing]);
    const decoded = await decodeFrames(decoder, clip.latents, clip.width, clip.height);
    const block = clip.width / lw;
    for (let f = 0; f < frames; f++) {
      const frame = decoded[f === 0 ? 0 : TEMPORAL * f];
      if (frame === undefined) continue;
      for (let y = 0; y < lh; y++) {
        for (let x = 0; x < lw; x++) {
          const z = new Float64Array(p);
          for (let c = 0; c < channels; c++) z[c] = smoothed[((c * frames + f) * lh + y) * lw + x] as number;
          z[channels] = 1;
          const rgb = blockMean(frame, clip.width, x * block, y * block, block);
          for (let i = 0; i < p; i++) {
            const row = xtx[i] as Float64Array;
            for (let j = 0; j < p; j++) row[j] = (row[j] as number) + (z[i] as number) * (z[j] as number);
            for (let k = 0; k < 3; k++) {
              const t = xty[k] as Float64Array;
              t[i] = (t[i] as number) + (z[i] as number) * logit((rgb[k] ?? 0) / 255);
            }
          }
          samples.push({ z, rgb });
        }
      }
    }
  }
  const betas = [0, 1, 2].map((k) => solve(xtx, xty[k] as Float64Array));
  let squared = 0;
  for (const s of samples) {
    for (let k = 0; k < 3; k++) {
      const fit = (betas[k] ?? []).reduce((a, b, i) => a + b * (s.z[i] as number), 0);
      squared += (255 / (1 + Math.exp(-fit)) - (s.rgb[k] ?? 0)) ** 2;
    }
  }
  return {
    latentRgbFactors: Array.from({ length: channels }, (_, c) => betas.map((b) => round4(b[c] ?? 0))),
    latentRgbBias: betas.map((b) => round4(b[channels] ?? 0)),
    rmse: Math.sqrt(squared / (3 * Math.max(1, samples.length))),
  };
}

async function decodeFrames(decoder: Decoder, latents: Latents, width: number, height: number): Promise<Uint8Array[]> {
  const frames = latents.dims[1] ?? 1;
  const out: Uint8Array[] = [];
  const size = width * height * 3;
  await decoder.decode(latents, { width, height, numFrames: 1 + TEMPORAL * (frames - 1) }, (rgb, n) => {
    for (let k = 0; k < n; k++) out.push(rgb.slice(k * size, (k + 1) * size));
  });
  return out;
}

function blockMean(frame: Uint8Array, width: number, x0: number, y0: number, block: number): number[] {
  const sum = [0, 0, 0];
  for (let y = y0; y < y0 + block; y++) {
    for (let x = x0; x < x0 + block; x++) {
      const at = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) sum[k] = (sum[k] ?? 0) + (frame[at + k] ?? 0);
    }
  }
  return sum.map((s) => s / (block * block));
}

/** Clamped half a level inside 0 and 255: saturated blocks would be unbounded in logit space. */
function logit(q: number): number {
  const c = Math.min(Math.max(q, 0.5 / 255), 254.5 / 255);
  return Math.log(c / (1 - c));
}

/** Solves (A + tiny ridge) x = b by Gaussian elimination with partial pivoting. */
function solve(a0: Float64Array[], b0: Float64Array): number[] {
  const n = b0.length;
  const a = a0.map((row, i) => [...row, b0[i] as number].map((v, j) => (j === i ? v + 1e-6 : v)));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]?.[col] ?? 0) > Math.abs(a[pivot]?.[col] ?? 0)) pivot = r;
    const top = a[pivot];
    const here = a[col];
    if (top === undefined || here === undefined) continue;
    a[col] = top;
    a[pivot] = here;
    const lead = top[col] ?? 1;
    for (let r = 0; r < n; r++) {
      const row = a[r];
      if (r === col || row === undefined) continue;
      const f = (row[col] ?? 0) / lead;
      for (let j = col; j <= n; j++) row[j] = (row[j] ?? 0) - f * (top[j] ?? 0);
    }
  }
  return Array.from({ length: n }, (_, i) => (a[i]?.[n] ?? 0) / (a[i]?.[i] ?? 1));
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
