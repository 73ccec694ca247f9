import { attr, type GraphBuilder } from "../onnx/index.js";

/**
 * Factorised 3D sinusoidal position embedding for a patch grid, computed in-graph from the grid's
 * dynamic size: channels are split between frame, row and column (as Wan splits its 3D RoPE
 * dimensions), each axis gets [sin, cos] of position x 10000^(-k/half). Wan rotates q/k with RoPE;
 * an additive embedding is used here because it is one Add per model instead of per attention.
 *
 * @param grid a tensor shaped [B, D, T, h, w] (the patch-embedding output)
 * @returns [T, h*w, D], broadcastable onto tokens [B, T, S, D]
 */
export function gridPositionEmbedding(g: GraphBuilder, grid: string, dim: number): string {
  return g.scope("pos_embedding", () => {
    const split = splitDims(dim);
    const shape = g.op("Shape", [grid]);
    const sizes = [2, 3, 4].map((axis) => g.op("Gather", [shape, g.constI64([axis], [])], { axis: attr.i(0) }));
    const fullShape = (channels: number): string =>
      g.op("Concat", [...sizes.map((s) => g.op("Unsqueeze", [s, g.constI64([0])])), g.constI64([channels])], {
        axis: attr.i(0),
      });
    const parts = sizes.map((n, axis) => {
      const channels = split[axis] ?? 0;
      const emb = axisEmbedding(g, n, channels); // [n, channels]
      const view = [1, 1, 1, channels];
      view[axis] = -1;
      return g.op("Expand", [g.op("Reshape", [emb, g.constI64(view)]), fullShape(channels)]);
    });
    const cube = g.op("Concat", parts, { axis: attr.i(-1) }); // [T, h, w, D]
    return g.op("Reshape", [cube, g.constI64([0, -1, dim])]);
  });
}

function axisEmbedding(g: GraphBuilder, n: string, channels: number): string {
  const half = channels / 2;
  const positions = g.op("Cast", [g.op("Range", [g.constI64([0], []), n, g.constI64([1], [])])], { to: attr.i(1) });
  const freqs = new Float32Array(half).map((_, k) => 10000 ** (-k / half));
  const args = g.op("Mul", [g.op("Unsqueeze", [positions, g.constI64([1])]), g.constF32(freqs, [half])]);
  return g.op("Concat", [g.op("Sin", [args]), g.op("Cos", [args])], { axis: attr.i(1) });
}

/** Even channel counts for (frame, row, column) summing to dim, rows/columns getting the remainder. */
function splitDims(dim: number): [number, number, number] {
  const t = 2 * Math.floor(dim / 6);
  const rest = dim - t;
  const h = 2 * Math.ceil(rest / 4);
  return [t, h, rest - h];
}
