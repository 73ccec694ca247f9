import type { LatentShape } from "./spec-check.js";

/**
 * Latent-to-RGB map, as ComfyUI's latent previews: value = bias + sum_c z_c * factors[c], one
 * [r, g, b] row per latent channel; optionally smoothed (separable taps, edge-padded) before the
 * activation; "linear" reads the value as 0..255, "sigmoid" as a logit (255 sigmoid(value)).
 */
export interface PreviewProjection {
  factors: number[][];
  bias: number[];
  activation: "linear" | "sigmoid";
  smoothing: number[];
}

export interface PreviewImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** The longer side of a preview is at most this many pixels. */
export const PREVIEW_MAX_SIDE = 256;

/**
 * Used when a package declares no projection: the first three channels as R, G, B around mid
 * grey. Shows layout and motion, not colour.
 */
export function fallbackProjection(channels: number): PreviewProjection {
  return {
    factors: Array.from({ length: channels }, (_, c) => [c === 0 ? 64 : 0, c === 1 ? 64 : 0, c === 2 ? 64 : 0]),
    bias: [128, 128, 128],
    activation: "linear",
    smoothing: [],
  };
}

/** The latent frame a preview shows: the middle one, standing for the middle of the clip. */
export function previewFrameIndex(shape: LatentShape): number {
  return Math.floor((shape.frames - 1) / 2);
}

/**
 * Flow-matching clean estimate of one latent frame, x0 = x_t - sigma * v, with v the guided
 * velocity from the batch-2 output (row 0 conditional, row 1 unconditional). Only that frame is
 * computed: C*H*W values, a small fraction of what a step touches.
 */
export function cleanEstimateFrame(
  x: Float32Array,
  velocity: Float32Array,
  guidance: number,
  sigma: number,
  shape: LatentShape,
  frame: number,
): Float32Array {
  const hw = shape.height * shape.width;
  const n = x.length;
  const out = new Float32Array(shape.channels * hw);
  for (let c = 0; c < shape.channels; c++) {
    const src = (c * shape.frames + frame) * hw;
    for (let p = 0; p < hw; p++) {
      const vc = velocity[src + p] as number;
      const vu = velocity[n + src + p] as number;
      out[c * hw + p] = (x[src + p] as number) - sigma * (vu + guidance * (vc - vu));
    }
  }
  return out;
}

/** Projects a [C, H, W] latent frame to RGB and upscales it bilinearly by an integer factor to at most PREVIEW_MAX_SIDE. */
export function latentPreview(
  frame: Float32Array,
  shape: Pick<LatentShape, "channels" | "height" | "width">,
  projection: PreviewProjection,
): PreviewImage {
  const { channels, height: h, width: w } = shape;
  const hw = h * w;
  const small = new Float32Array(3 * hw);
  for (let k = 0; k < 3; k++) {
    const bias = projection.bias[k] ?? 0;
    for (let p = 0; p < hw; p++) small[k * hw + p] = bias;
    for (let c = 0; c < channels; c++) {
      const f = projection.factors[c]?.[k] ?? 0;
      if (f === 0) continue;
      for (let p = 0; p < hw; p++)
        small[k * hw + p] = (small[k * hw + p] as number) + f * (frame[c * hw + p] as number);
    }
  }
  if (projection.smoothing.length > 1) smoothPlanes(small, 3, h, w, projection.smoothing);
  if (projection.activation === "sigmoid")
    for (let i = 0; i < small.length; i++) small[i] = 255 / (1 + Math.exp(-(small[i] as number)));
  const s = Math.max(1, Math.floor(PREVIEW_MAX_SIDE / Math.max(w, h)));
  const width = w * s;
  const height = h * s;
  const rgb = new Uint8Array(width * height * 3);
  for (let oy = 0; oy < height; oy++) {
    const sy = Math.min(Math.max((oy + 0.5) / s - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let ox = 0; ox < width; ox++) {
      const sx = Math.min(Math.max((ox + 0.5) / s - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      for (let k = 0; k < 3; k++) {
        const base = k * hw;
        const top = (small[base + y0 * w + x0] as number) * (1 - fx) + (small[base + y0 * w + x1] as number) * fx;
        const bottom = (small[base + y1 * w + x0] as number) * (1 - fx) + (small[base + y1 * w + x1] as number) * fx;
        // Uint8Array assignment truncates and wraps: clamp and round first.
        rgb[(oy * width + ox) * 3 + k] = Math.min(255, Math.max(0, Math.round(top * (1 - fy) + bottom * fy)));
      }
    }
  }
  return { width, height, rgb };
}

/** In-place separable convolution of `planes` [h, w] planes with odd-length `taps`, edges repeated. */
export function smoothPlanes(data: Float32Array, planes: number, h: number, w: number, taps: number[]): void {
  const r = (taps.length - 1) >> 1;
  const line = new Float32Array(Math.max(h, w));
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let acc = 0;
        for (let k = 0; k < taps.length; k++) {
          const sx = Math.min(Math.max(x + k - r, 0), w - 1);
          acc += (taps[k] as number) * (data[base + y * w + sx] as number);
        }
        line[x] = acc;
      }
      data.set(line.subarray(0, w), base + y * w);
    }
    for (let x = 0; x < w; x++) {
      for (let y = 0; y < h; y++) {
        let acc = 0;
        for (let k = 0; k < taps.length; k++) {
          const sy = Math.min(Math.max(y + k - r, 0), h - 1);
          acc += (taps[k] as number) * (data[base + sy * w + x] as number);
        }
        line[y] = acc;
      }
      for (let y = 0; y < h; y++) data[base + y * w + x] = line[y] as number;
    }
  }
}
