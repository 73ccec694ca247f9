import { attr, DataType, GraphBuilder } from "../onnx/index.js";
import {
  attend,
  gelu,
  layerNorm,
  linear,
  maskBias,
  mergeHeads,
  mlp,
  selfAttention,
  silu,
  splitHeads,
} from "./layers.js";
import { gridPositionEmbedding } from "./position-embedding.js";
import { WAN_TINY } from "./wan-tiny-config.js";

// Tokens are kept as X: [B, T, S, D] (T latent frames, S = h*w patches per frame) so spatial and
// temporal attention are both plain batched MatMuls without dynamic reshapes.

const MOD_CHUNKS = 9;
const CROSS_QK_GAIN = 4;
const CROSS_OUT_GAIN = 8;
const POS_GAIN = 0.5; // shift/scale/gate for spatial attention, temporal attention and FFN

/**
 * One DiT expert: 3D patch embedding, sinusoidal timestep embedding driving AdaLN modulation,
 * factorised spatial + temporal self-attention, cross-attention to text, MLP, and an
 * unpatchify head. Predicts the flow-matching velocity.
 */
export function buildDenoiser(seed: number): Uint8Array {
  const { dim, heads, layers, mlpDim, freqDim, patch } = WAN_TINY.dit;
  const channels = WAN_TINY.latent.channels;
  const textDim = WAN_TINY.text.dim;
  const g = new GraphBuilder("denoiser", seed);
  const latents = g.input("latents", DataType.FLOAT, [
    "batch",
    channels,
    "latent_frames",
    "latent_height",
    "latent_width",
  ]);
  const timestep = g.input("timestep", DataType.FLOAT, ["batch"]);
  const textEmb = g.input("text_embeddings", DataType.FLOAT, ["batch", "text_len", textDim]);
  const textMask = g.input("text_mask", DataType.INT64, ["batch", "text_len"]);

  // Patch embedding. The end padding of 1 lets a stride-2 patch cover odd latent sizes (720p: 45 rows);
  // for even sizes Conv's floor division drops the padded row again.
  const patchW = g.scope("patch_embedding", () =>
    g.uniformWeight("weight", [dim, channels, ...patch], 1 / Math.sqrt(channels * 4)),
  );
  const patchB = g.scope("patch_embedding", () => g.uniformWeight("bias", [dim], 0.1));
  const pe = g.op("Conv", [latents, patchW, patchB], {
    kernel_shape: attr.ints(patch),
    strides: attr.ints(patch),
    pads: attr.ints([0, 0, 0, 0, 1, 1]),
  });
  let x = g.op("Transpose", [g.op("Reshape", [pe, g.constI64([0, 0, 0, -1])])], { perm: attr.ints([0, 2, 3, 1]) });
  const gridHw = g.op("Shape", [pe], { start: attr.i(3), end: attr.i(5) });
  x = g.op("Add", [x, g.op("Mul", [gridPositionEmbedding(g, pe, dim), g.constF32([POS_GAIN], [])])]);

  const e = timeEmbedding(g, timestep, freqDim, dim);
  const e0 = linear(g, silu(g, e), dim, MOD_CHUNKS * dim, "time_projection");
  const context = g.scope("text_embedding", () =>
    linear(g, gelu(g, linear(g, textEmb, textDim, dim, "fc1")), dim, dim, "fc2"),
  );
  const crossBias = maskBias(g, textMask, [1, 2, 3]); // [B, 1, 1, 1, L]

  for (let i = 0; i < layers; i++) {
    g.scope(`blocks.${i}`, () => {
      const mod = g.op("Add", [e0, g.uniformWeight("modulation", [MOD_CHUNKS * dim], 0.5)]);
      const m = g
        .opN("Split", [mod], MOD_CHUNKS, { axis: attr.i(1), num_outputs: attr.i(MOD_CHUNKS) })
        .map((c) => g.op("Unsqueeze", [c, g.constI64([1, 2])])); // [B, 1, 1, D]
      const [sh1, sc1, g1, sh2, sc2, g2, sh3, sc3, g3] = m as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];

      const hs = modulate(g, layerNorm(g, x, dim, "norm_spatial"), sh1, sc1);
      const kv = poolTokens(g, hs, dim, gridHw);
      x = g.op("Add", [x, g.op("Mul", [g1, selfAttention(g, hs, 2, dim, heads, "spatial_attn", undefined, kv)])]);

      const ht = g.op("Transpose", [modulate(g, layerNorm(g, x, dim, "norm_temporal"), sh2, sc2)], {
        perm: attr.ints([0, 2, 1, 3]),
      });
      const at = g.op("Transpose", [selfAttention(g, ht, 2, dim, heads, "temporal_attn")], {
        perm: attr.ints([0, 2, 1, 3]),
      });
      x = g.op("Add", [x, g.op("Mul", [g2, at])]);

      x = g.op("Add", [x, crossAttention(g, layerNorm(g, x, dim, "norm_cross"), context, crossBias, dim, heads)]);

      const hf = modulate(g, layerNorm(g, x, dim, "norm_ffn"), sh3, sc3);
      x = g.op("Add", [x, g.op("Mul", [g3, mlp(g, hf, dim, mlpDim, "ffn")])]);
    });
  }

  const velocity = g.scope("head", () => {
    const mod = g.op("Add", [linear(g, e, dim, 2 * dim, "time"), g.uniformWeight("modulation", [2 * dim], 0.5)]);
    const [shift, scale] = g
      .opN("Split", [mod], 2, { axis: attr.i(1), num_outputs: attr.i(2) })
      .map((c) => g.op("Unsqueeze", [c, g.constI64([1, 2])])) as [string, string];
    const h = modulate(g, layerNorm(g, x, dim, "norm"), shift, scale);
    // Back to [B, D, T, h, w] (the patch-embedding output shape), then a stride-2 transposed conv
    // is exactly "Linear(D, C*2*2) + unpatchify"; finally crop the padded row/column away.
    const grid = g.op("Reshape", [g.op("Transpose", [h], { perm: attr.ints([0, 3, 1, 2]) }), g.op("Shape", [pe])]);
    const w = g.uniformWeight("weight", [dim, channels, ...patch], 1.5 / Math.sqrt(dim));
    const up = g.op("ConvTranspose", [grid, w], { kernel_shape: attr.ints(patch), strides: attr.ints(patch) });
    const hw = g.op("Shape", [latents], { start: attr.i(3), end: attr.i(5) });
    return g.op("Slice", [up, g.constI64([0, 0]), hw, g.constI64([3, 4])]);
  });
  g.output("velocity", velocity, DataType.FLOAT, ["batch", channels, "latent_frames", "latent_height", "latent_width"]);
  return g.toBytes();
}

/** Wan's sinusoidal_embedding_1d (cos then sin, 10000^-k/half) followed by Linear-SiLU-Linear. */
function timeEmbedding(g: GraphBuilder, t: string, freqDim: number, dim: number): string {
  return g.scope("time_embedding", () => {
    const half = freqDim / 2;
    const freqs = new Float32Array(half).map((_, k) => 10000 ** (-k / half));
    const args = g.op("Mul", [g.op("Unsqueeze", [t, g.constI64([1])]), g.fixedWeight("freqs", [half], freqs)]);
    const sinusoid = g.op("Concat", [g.op("Cos", [args]), g.op("Sin", [args])], { axis: attr.i(1) });
    return linear(g, silu(g, linear(g, sinusoid, freqDim, dim, "fc1")), dim, dim, "fc2");
  });
}

/**
 * Spatial-reduction keys/values: tokens [B, T, S, D] -> 2x2-average-pooled [B, T, S/4, D].
 * Full per-frame attention at 720p/10 s would hold ~2 GB of scores per head pair; pooling K/V
 * (as PVT and PixArt-Sigma's KV compression do) cuts scores and time by 4x.
 */
function poolTokens(g: GraphBuilder, x: string, dim: number, gridHw: string): string {
  return g.scope("kv_pool", () => {
    const bt = g.op("Shape", [x], { start: attr.i(0), end: attr.i(2) });
    const planes = g.op("Transpose", [x], { perm: attr.ints([0, 1, 3, 2]) }); // [B, T, D, S]
    const gridShape = g.op("Concat", [g.constI64([-1, dim]), gridHw], { axis: attr.i(0) });
    const grid = g.op("Reshape", [planes, gridShape]); // [B*T, D, h, w]
    const pooled = g.op("AveragePool", [grid], {
      kernel_shape: attr.ints([2, 2]),
      strides: attr.ints([2, 2]),
      ceil_mode: attr.i(1),
    });
    const back = g.op("Reshape", [pooled, g.op("Concat", [bt, g.constI64([dim, -1])], { axis: attr.i(0) })]);
    return g.op("Transpose", [back], { perm: attr.ints([0, 1, 3, 2]) }); // [B, T, S/4, D]
  });
}

function modulate(g: GraphBuilder, x: string, shift: string, scale: string): string {
  const onePlus = g.op("Add", [scale, g.constF32([1], [])]);
  return g.op("Add", [g.op("Mul", [x, onePlus]), shift]);
}

/** Queries from video tokens [B, T, S, D], keys/values from text [B, L, D]; padding masked. */
function crossAttention(g: GraphBuilder, x: string, context: string, bias: string, dim: number, heads: number): string {
  return g.scope("cross_attn", () => {
    const hd = dim / heads;
    // Larger q/k gains give peaked attention (video tokens pick out particular text tokens) rather
    // than a near-uniform average over the prompt, which would make all prompts look alike.
    const q = splitHeads(g, linear(g, x, dim, dim, "q", CROSS_QK_GAIN), 2, heads, hd); // [B, T, H, S, dh]
    const headShape = g.constI64([0, 0, heads, hd]);
    const k = g.op("Reshape", [linear(g, context, dim, dim, "k", CROSS_QK_GAIN), headShape]); // [B, L, H, dh]
    const v = g.op("Reshape", [linear(g, context, dim, dim, "v"), headShape]);
    const kT = g.op("Unsqueeze", [g.op("Transpose", [k], { perm: attr.ints([0, 2, 3, 1]) }), g.constI64([1])]); // [B, 1, H, dh, L]
    const vh = g.op("Unsqueeze", [g.op("Transpose", [v], { perm: attr.ints([0, 2, 1, 3]) }), g.constI64([1])]); // [B, 1, H, L, dh]
    return linear(g, mergeHeads(g, attend(g, q, kT, vh, hd, bias), 2, dim), dim, dim, "o", CROSS_OUT_GAIN);
  });
}
