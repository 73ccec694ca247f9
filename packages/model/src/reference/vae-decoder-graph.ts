import { attr, DataType, GraphBuilder } from "../onnx/index.js";
import { silu } from "./layers.js";
import { WAN_TINY } from "./wan-tiny-config.js";

// Decoder layout: frames are the batch axis ([N, C, h, w]) so every spatial op is a cheap 2D op.
// Temporal upsampling is causal like Wan's VAE: each latent frame after the first yields 4 frames
// interpolated from its predecessor, so a chunk only needs one context frame and chunked decoding
// equals whole-clip decoding.

const TEMPORAL = 4;

/**
 * VAE-style decoder: latents [1, C, chunk_frames, h, w] (frame 0 is context) ->
 * rgb24 frames [4 * (chunk_frames - 1), 16h, 16w, 3] uint8.
 */
export function buildVaeDecoder(): Uint8Array {
  const channels = WAN_TINY.latent.channels;
  const g = new GraphBuilder("vae_decoder", WAN_TINY.vae.seed);
  const latents = g.input("latents", DataType.FLOAT, [1, channels, "chunk_frames", "latent_height", "latent_width"]);

  const frames = g.op("Transpose", [g.op("Squeeze", [latents, g.constI64([0])])], { perm: attr.ints([1, 0, 2, 3]) });
  // Per-channel de-normalisation, as Wan's VAE applies latents_mean/latents_std before decoding.
  const z = g.scope("denorm", () => {
    const scale = g.uniformWeight("std", [1, channels, 1, 1], 0.5);
    return g.op("Add", [
      g.op("Mul", [frames, g.op("Add", [scale, g.constF32([1], [])])]),
      g.uniformWeight("mean", [1, channels, 1, 1], 0.3),
    ]);
  });
  let x = g.scope("mid", () => silu(g, conv(g, z, channels, 32, 3, "conv1")));
  x = g.scope("mid", () => conv(g, x, 32, 32, 1, "conv2"));
  // A wide low-pass at latent resolution: the toy latents are noise-like, and smoothing turns them
  // into soft colour fields (which also encode compactly in H.264). The kernel (box-5 convolved
  // with [1,2,1]) has zero response at the latent Nyquist frequency, so the 2x2 patch grid of the
  // DiT leaves no stripes. Everything after it is bilinear upsampling and 1x1 convolutions, which
  // cannot add high frequencies back.
  x = lowPass(g, x, 32);
  x = temporalUpsample(g, x, 32);
  x = g.scope("up1", () => silu(g, conv(g, resize(g, x, 2), 32, 16, 1, "conv")));
  x = g.scope("up2", () => silu(g, conv(g, resize(g, x, 2), 16, 8, 1, "conv")));
  const rgbLow = g.scope("to_rgb", () => conv(g, x, 8, 3, 1, "conv", WAN_TINY.vae.outputGain));
  // Colour is computed at 1/4 resolution, quantised, moved to NHWC, and only then bilinearly
  // upsampled 4x as uint8 (onnxruntime has a fast NHWC uint8 Resize path): full-resolution work is
  // a single byte-sized Resize, which keeps 720p chunks cheap.
  const rgb = g.op("Add", [g.op("Mul", [g.op("Sigmoid", [rgbLow]), g.constF32([255], [])]), g.constF32([0.5], [])]);
  const bytes = g.op("Transpose", [g.op("Cast", [rgb], { to: attr.i(DataType.UINT8) })], {
    perm: attr.ints([0, 2, 3, 1]),
  });
  const nhwc = g.op("Resize", [bytes, "", g.constF32([1, 4, 4, 1], [4])], { mode: attr.s("linear") });
  g.output("frames", nhwc, DataType.UINT8, ["num_frames", "height", "width", 3]);
  return g.toBytes();
}

function conv(g: GraphBuilder, x: string, cin: number, cout: number, k: number, name: string, gain = 1): string {
  return g.scope(name, () => {
    const bound = (gain * Math.sqrt(3)) / Math.sqrt(cin * k * k);
    const w = g.uniformWeight("weight", [cout, cin, k, k], bound);
    const b = g.uniformWeight("bias", [cout], 0.05);
    const p = (k - 1) / 2;
    return g.op("Conv", [x, w, b], { kernel_shape: attr.ints([k, k]), pads: attr.ints([p, p, p, p]) });
  });
}

function lowPass(g: GraphBuilder, x: string, channels: number): string {
  return g.scope("low_pass", () => {
    const taps = WAN_TINY.vae.lowPass;
    const k = taps.length;
    const kernel = new Float32Array(channels * k * k);
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) kernel[(c * k + i) * k + j] = (taps[i] ?? 0) * (taps[j] ?? 0);
    }
    const p = (k - 1) / 2;
    // Edge padding so the borders keep their brightness (zero padding would darken them).
    const padded = g.op("Pad", [x, g.constI64([0, 0, p, p, 0, 0, p, p])], { mode: attr.s("edge") });
    const w = g.fixedWeight("kernel", [channels, 1, k, k], kernel);
    return g.op("Conv", [padded, w], { group: attr.i(channels), kernel_shape: attr.ints([k, k]) });
  });
}

function resize(g: GraphBuilder, x: string, factor: number): string {
  return g.op("Resize", [x, "", g.constF32([1, 1, factor, factor], [4])], { mode: attr.s("linear") });
}

/** [T, C, h, w] -> [4 (T-1), C, h, w]: frame 4(i-1)+k = lerp(z[i-1], z[i], k/4), k = 1..4. */
function temporalUpsample(g: GraphBuilder, x: string, channels: number): string {
  return g.scope("temporal_up", () => {
    const axis0 = g.constI64([0]);
    const prev = g.op("Slice", [x, g.constI64([0]), g.constI64([-1]), axis0]);
    const next = g.op("Slice", [x, g.constI64([1]), g.constI64([Number.MAX_SAFE_INTEGER]), axis0]);
    const delta = g.op("Sub", [next, prev]);
    const steps = Array.from({ length: TEMPORAL }, (_, i) => {
      const f = g.op("Add", [prev, g.op("Mul", [delta, g.constF32([(i + 1) / TEMPORAL], [])])]);
      return g.op("Unsqueeze", [f, g.constI64([1])]);
    });
    const stacked = g.op("Concat", steps, { axis: attr.i(1) }); // [T-1, 4, C, h, w]
    const hw = g.op("Shape", [x], { start: attr.i(2), end: attr.i(4) });
    const target = g.op("Concat", [g.constI64([-1, channels]), hw], { axis: attr.i(0) });
    return g.op("Reshape", [stacked, target]);
  });
}
