import * as ort from "onnxruntime-node";
import type { DecodeTarget, Latents, ModelInfo } from "../api-types.js";
import type { ModelManifest } from "../manifest.js";
import { type OpenedComponents, openComponents, sessionFor } from "./open-components.js";
import { checkDecodeRequest, type LatentShape } from "./spec-check.js";

/** Receives one chunk of rgb24 frames; resolves false to stop decoding (the consumer failed). */
export type FrameSink = (rgb24: Uint8Array, frameCount: number) => Promise<boolean>;

/**
 * Chunked VAE decode. Each call gets `chunkLatentFrames` new latent frames plus the previous one as
 * context (the decoder's temporal upsampling is causal), so memory is bounded by the chunk size,
 * not by clip length.
 */
export class DecoderEngine {
  private constructor(
    private readonly opened: OpenedComponents,
    readonly info: ModelInfo,
  ) {}

  static async load(modelDir: string, providers: string[], intraOpThreads: number): Promise<DecoderEngine> {
    const opened = await openComponents(modelDir, (c) => c.kind === "vaeDecoder", providers, intraOpThreads);
    const m = opened.manifest;
    const engine = new DecoderEngine(opened, {
      name: m.name,
      version: m.version,
      defaultSteps: m.sampler.defaultSteps,
      executionProvider: opened.provider,
    });
    await engine.warmUp();
    return engine;
  }

  get manifest(): ModelManifest {
    return this.opened.manifest;
  }

  async decode(latents: Latents, target: DecodeTarget, sink: FrameSink): Promise<void> {
    const m = this.manifest;
    const shape = checkDecodeRequest(latents, target, m);
    const tc = m.latent.temporalCompression;
    const chunk = m.components.vaeDecoder.chunkLatentFrames;
    const frameBytes = target.width * target.height * 3;
    let emitted = 0;
    for (let start = 0; start < shape.frames && emitted < target.numFrames; start += chunk) {
      const end = Math.min(start + chunk, shape.frames);
      const frames = await this.runChunk(latents.data, shape, start, end);
      // The first chunk's context is frame 0 itself, giving tc copies of it: keep only the last.
      const skip = start === 0 ? tc - 1 : 0;
      const available = frames.length / frameBytes - skip;
      const count = Math.min(available, target.numFrames - emitted);
      // Copy out of onnxruntime's buffer so the chunk can be transferred to the main thread.
      const rgb = frames.slice(skip * frameBytes, (skip + count) * frameBytes);
      emitted += count;
      if (!(await sink(rgb, count))) return;
    }
  }

  async release(): Promise<void> {
    for (const s of this.opened.sessions.values()) await s.release();
  }

  /** Runs latent frames [start, end) with context frame start-1 (or frame 0 for the first chunk). */
  private async runChunk(data: Float32Array, shape: LatentShape, start: number, end: number): Promise<Uint8Array> {
    const indices = [Math.max(start - 1, 0), ...Array.from({ length: end - start }, (_, i) => start + i)];
    const plane = shape.height * shape.width;
    const input = new Float32Array(shape.channels * indices.length * plane);
    for (let c = 0; c < shape.channels; c++) {
      indices.forEach((f, i) => {
        const src = (c * shape.frames + f) * plane;
        input.set(data.subarray(src, src + plane), (c * indices.length + i) * plane);
      });
    }
    const out = await sessionFor(this.opened, this.manifest.components.vaeDecoder.file).run({
      latents: new ort.Tensor("float32", input, [1, shape.channels, indices.length, shape.height, shape.width]),
    });
    const frames = out.frames?.data;
    if (!(frames instanceof Uint8Array)) throw new Error("vae decoder returned no uint8 frames");
    return frames;
  }

  private async warmUp(): Promise<void> {
    const m = this.manifest;
    const smallest = [...m.resolutions].sort((a, b) => a.width * a.height - b.width * b.height)[0];
    if (smallest === undefined) return;
    const s = m.latent.spatialCompression;
    const shape: LatentShape = {
      channels: m.latent.channels,
      frames: 2,
      height: smallest.height / s,
      width: smallest.width / s,
    };
    await this.runChunk(new Float32Array(shape.channels * 2 * shape.height * shape.width), shape, 0, 2);
  }
}
