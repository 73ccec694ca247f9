import { attr, type GraphBuilder } from "../onnx/index.js";

// Building blocks shared by the reference graphs. Shapes in comments use: B batch, S sequence, D width.

/** x @ W (+ b). Uniform init with bound gain/sqrt(fanIn), PyTorch style. */
export function linear(
  g: GraphBuilder,
  x: string,
  inDim: number,
  outDim: number,
  name: string,
  gain = 1,
  bias = true,
): string {
  return g.scope(name, () => {
    const bound = gain / Math.sqrt(inDim);
    const y = g.op("MatMul", [x, g.uniformWeight("weight", [inDim, outDim], bound)]);
    return bias ? g.op("Add", [y, g.uniformWeight("bias", [outDim], bound)]) : y;
  });
}

/** LayerNorm over the last axis with unit scale and zero bias (as freshly initialised, or with elementwise_affine=False in Wan). */
export function layerNorm(g: GraphBuilder, x: string, dim: number, name: string): string {
  return g.scope(name, () => {
    const scale = g.fixedWeight("weight", [dim], new Float32Array(dim).fill(1));
    const bias = g.fixedWeight("bias", [dim], new Float32Array(dim));
    return g.op("LayerNormalization", [x, scale, bias], { axis: attr.i(-1), epsilon: attr.f(1e-6) });
  });
}

export function silu(g: GraphBuilder, x: string): string {
  return g.op("Mul", [x, g.op("Sigmoid", [x])]);
}

export function gelu(g: GraphBuilder, x: string): string {
  return g.op("Gelu", [x], { approximate: attr.s("tanh") });
}

/** [...lead, S, H*dh] -> [...lead, H, S, dh] */
export function splitHeads(g: GraphBuilder, x: string, lead: number, heads: number, headDim: number): string {
  const shape = g.constI64([...Array<number>(lead + 1).fill(0), heads, headDim]);
  const perm = [...range(lead), lead + 1, lead, lead + 2];
  return g.op("Transpose", [g.op("Reshape", [x, shape])], { perm: attr.ints(perm) });
}

/** [...lead, H, S, dh] -> [...lead, S, H*dh] */
export function mergeHeads(g: GraphBuilder, x: string, lead: number, dim: number): string {
  const perm = [...range(lead), lead + 1, lead, lead + 2];
  const t = g.op("Transpose", [x], { perm: attr.ints(perm) });
  return g.op("Reshape", [t, g.constI64([...Array<number>(lead + 1).fill(0), dim])]);
}

/**
 * softmax(q kT / sqrt(dh) + bias) v, with kT already transposed to [..., dh, Sk].
 * The 1/sqrt(dh) scale is applied to q (small) rather than to the scores (the largest tensor in the graph).
 */
export function attend(g: GraphBuilder, q: string, kT: string, v: string, headDim: number, bias?: string): string {
  const qs = g.op("Mul", [q, g.constF32([1 / Math.sqrt(headDim)], [])]);
  const scores = g.op("MatMul", [qs, kT]);
  const masked = bias === undefined ? scores : g.op("Add", [scores, bias]);
  return g.op("MatMul", [g.op("Softmax", [masked], { axis: attr.i(-1) }), v]);
}

/**
 * Multi-head attention over the second-to-last axis of x: [...lead, S, D]. Keys/values come from
 * `kv` ([...lead, Sk, D], default x). `bias` (optional) must broadcast to [...lead, H, S, Sk].
 */
export function selfAttention(
  g: GraphBuilder,
  x: string,
  lead: number,
  dim: number,
  heads: number,
  name: string,
  bias?: string,
  kv: string = x,
): string {
  return g.scope(name, () => {
    const hd = dim / heads;
    const q = splitHeads(g, linear(g, x, dim, dim, "q"), lead, heads, hd);
    const k = splitHeads(g, linear(g, kv, dim, dim, "k"), lead, heads, hd);
    const v = splitHeads(g, linear(g, kv, dim, dim, "v"), lead, heads, hd);
    const kT = g.op("Transpose", [k], { perm: attr.ints([...range(lead + 1), lead + 2, lead + 1]) });
    return linear(g, mergeHeads(g, attend(g, q, kT, v, hd, bias), lead, dim), dim, dim, "o");
  });
}

/** Feed-forward block: Linear -> GELU -> Linear. */
export function mlp(g: GraphBuilder, x: string, dim: number, hidden: number, name: string): string {
  return g.scope(name, () => linear(g, gelu(g, linear(g, x, dim, hidden, "fc1")), hidden, dim, "fc2"));
}

/** Additive attention bias from an int64 mask [B, L] (1 = token, 0 = padding): 0 or -1e4, shaped for broadcasting. */
export function maskBias(g: GraphBuilder, mask: string, unsqueezeAxes: number[]): string {
  const m = g.op("Cast", [mask], { to: attr.i(1) });
  const bias = g.op("Mul", [g.op("Sub", [m, g.constF32([1], [])]), g.constF32([1e4], [])]);
  return g.op("Unsqueeze", [bias, g.constI64(unsqueezeAxes)]);
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
