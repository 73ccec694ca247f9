import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_FORMAT, type ModelManifest } from "../manifest.js";
import { buildDenoiser } from "./denoiser-graph.js";
import { buildTextEncoder } from "./text-encoder-graph.js";
import { buildVaeDecoder } from "./vae-decoder-graph.js";
import { WAN_TINY } from "./wan-tiny-config.js";

export interface BuiltFile {
  file: string;
  bytes: number;
}

export function referenceManifest(): ModelManifest {
  const c = WAN_TINY;
  return {
    format: MANIFEST_FORMAT,
    name: c.name,
    version: c.version,
    description:
      "Synthetic-weight reference model with the structure of Wan2.2-T2V-A14B at toy scale. Not trained: outputs are abstract.",
    components: {
      textEncoder: { file: "text_encoder.onnx" },
      denoisers: c.experts.map((e) => ({
        name: e.name,
        file: e.file,
        minTimestep: e.minTimestep,
        maxTimestep: e.maxTimestep,
        guidanceScale: e.guidanceScale,
      })),
      vaeDecoder: { file: "vae_decoder.onnx", chunkLatentFrames: c.vae.chunkLatentFrames },
    },
    tokenizer: { kind: "utf8-bytes", ...c.tokenizer },
    latent: { ...c.latent, patchSize: [...c.dit.patch] },
    sampler: { kind: "flow-matching-euler", ...c.sampler },
    resolutions: c.resolutions.map((r) => ({ ...r })),
    frameRates: [...c.frameRates],
    maxDurationSeconds: c.maxDurationSeconds,
    preview: {
      latentRgbFactors: c.preview.latentRgbFactors.map((row) => [...row]),
      latentRgbBias: [...c.preview.latentRgbBias],
      activation: "sigmoid",
      smoothing: [...c.vae.lowPass],
    },
  };
}

/** Writes the wan-tiny package to outDir. Deterministic: same bytes on every build. */
export async function buildReferenceModelFiles(outDir: string): Promise<BuiltFile[]> {
  await mkdir(outDir, { recursive: true });
  const files: Array<[string, Uint8Array]> = [
    ["text_encoder.onnx", buildTextEncoder()],
    ...WAN_TINY.experts.map((e): [string, Uint8Array] => [e.file, buildDenoiser(e.seed)]),
    ["vae_decoder.onnx", buildVaeDecoder()],
    ["manifest.json", new TextEncoder().encode(`${JSON.stringify(referenceManifest(), null, 2)}\n`)],
  ];
  for (const [name, bytes] of files) await writeFile(join(outDir, name), bytes);
  return files.map(([file, bytes]) => ({ file, bytes: bytes.length }));
}

export async function buildReferenceModel(outDir: string): Promise<void> {
  await buildReferenceModelFiles(outDir);
}
