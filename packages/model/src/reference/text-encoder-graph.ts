import { attr, DataType, GraphBuilder } from "../onnx/index.js";
import { layerNorm, maskBias, mlp, selfAttention } from "./layers.js";
import { WAN_TINY } from "./wan-tiny-config.js";

/**
 * Text encoder: token embedding + learned positions + pre-LN transformer layers with a padding
 * mask (the role umT5 plays in Wan). Input/output names follow the package contract.
 */
export function buildTextEncoder(): Uint8Array {
  const { dim, heads, layers, mlpDim, seed } = WAN_TINY.text;
  const { vocabSize, maxLength } = WAN_TINY.tokenizer;
  const g = new GraphBuilder("text_encoder", seed);
  const ids = g.input("input_ids", DataType.INT64, ["batch", "text_len"]);
  const mask = g.input("attention_mask", DataType.INT64, ["batch", "text_len"]);

  // Unit-variance embeddings so the first LayerNorm sees well-scaled input.
  const table = g.uniformWeight("token_embedding", [vocabSize, dim], Math.sqrt(3));
  const positions = g.uniformWeight("position_embedding", [maxLength, dim], 0.5);
  const len = g.op("Shape", [ids], { start: attr.i(1), end: attr.i(2) });
  const pos = g.op("Slice", [positions, g.constI64([0]), len, g.constI64([0])]);
  let x = g.op("Add", [g.op("Gather", [table, ids], { axis: attr.i(0) }), pos]);

  // [B, L] -> [B, 1, 1, L]: broadcasts over heads and query positions.
  const bias = maskBias(g, mask, [1, 2]);
  for (let i = 0; i < layers; i++) {
    g.scope(`layers.${i}`, () => {
      x = g.op("Add", [x, selfAttention(g, layerNorm(g, x, dim, "norm1"), 1, dim, heads, "attn", bias)]);
      x = g.op("Add", [x, mlp(g, layerNorm(g, x, dim, "norm2"), dim, mlpDim, "ffn")]);
    });
  }
  g.output("text_embeddings", layerNorm(g, x, dim, "final_norm"), DataType.FLOAT, ["batch", "text_len", dim]);
  return g.toBytes();
}
