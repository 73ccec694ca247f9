import type { ModelManifest } from "./manifest.js";

// The ONNX input/output contract each component must satisfy. Dims are numbers when fixed by the
// manifest and strings for dynamic axes (the names exporters should use as dim_param).

export type TensorDtype = "float32" | "int64" | "uint8";

export interface TensorContract {
  name: string;
  dtype: TensorDtype;
  dims: Array<number | string>;
}

export interface ComponentContract {
  inputs: TensorContract[];
  outputs: TensorContract[];
}

export type ComponentKind = "textEncoder" | "denoiser" | "vaeDecoder";

export function componentContract(kind: ComponentKind, m: ModelManifest): ComponentContract {
  const c = m.latent.channels;
  const latent5d = ["batch", c, "latent_frames", "latent_height", "latent_width"];
  switch (kind) {
    case "textEncoder":
      return {
        inputs: [
          { name: "input_ids", dtype: "int64", dims: ["batch", "text_len"] },
          { name: "attention_mask", dtype: "int64", dims: ["batch", "text_len"] },
        ],
        outputs: [{ name: "text_embeddings", dtype: "float32", dims: ["batch", "text_len", "text_dim"] }],
      };
    case "denoiser":
      return {
        inputs: [
          { name: "latents", dtype: "float32", dims: latent5d },
          { name: "timestep", dtype: "float32", dims: ["batch"] },
          { name: "text_embeddings", dtype: "float32", dims: ["batch", "text_len", "text_dim"] },
          { name: "text_mask", dtype: "int64", dims: ["batch", "text_len"] },
        ],
        outputs: [{ name: "velocity", dtype: "float32", dims: latent5d }],
      };
    case "vaeDecoder":
      return {
        inputs: [{ name: "latents", dtype: "float32", dims: [1, c, "chunk_frames", "latent_height", "latent_width"] }],
        outputs: [{ name: "frames", dtype: "uint8", dims: ["num_frames", "height", "width", 3] }],
      };
  }
}
