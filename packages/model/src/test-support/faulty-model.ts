import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attr, DataType, GraphBuilder } from "../onnx/index.js";
import { buildReferenceModel } from "../reference/build-reference-model.js";

/**
 * A low-noise expert with the contract's signature that fails inside onnxruntime (Gather past
 * the last latent frame) only for one-latent-frame clips (numFrames 1): longer clips run,
 * with a meaningless but finite velocity. So one request can hit a model runtime error while
 * the next one, on the same worker, succeeds.
 */
export function singleFrameFailingDenoiser(): Uint8Array {
  const g = new GraphBuilder("single_frame_failing_denoiser", 1);
  const dims = ["batch", 16, "latent_frames", "latent_height", "latent_width"];
  const latents = g.input("latents", DataType.FLOAT, dims);
  g.input("timestep", DataType.FLOAT, ["batch"]);
  g.input("text_embeddings", DataType.FLOAT, ["batch", "text_len", 64]);
  g.input("text_mask", DataType.INT64, ["batch", "text_len"]);
  const second = g.op("Gather", [latents, g.constI64([1])], { axis: attr.i(2) });
  g.output("velocity", g.op("Sub", [latents, second]), DataType.FLOAT, dims);
  return g.toBytes();
}

/** wan-tiny with `singleFrameFailingDenoiser` as its low-noise expert, written to `dir`. */
export async function buildFaultyReferenceModel(dir: string): Promise<void> {
  await buildReferenceModel(dir);
  await writeFile(join(dir, "denoiser_low_noise.onnx"), singleFrameFailingDenoiser());
}
