// Public data types of the runtime API (re-exported from index.ts).

export interface GenerationSpec {
  prompt: string;
  negativePrompt: string;
  width: number;
  height: number;
  numFrames: number;
  frameRate: number;
  seed: number;
  steps?: number;
  guidanceScale?: number;
}

/** Video latents, dims [channels, latentFrames, latentH, latentW]. */
export interface Latents {
  dims: number[];
  data: Float32Array;
}

export interface ModelInfo {
  name: string;
  version: string;
  defaultSteps: number;
  executionProvider: "cuda" | "cpu";
}

export interface EngineOptions {
  modelDir: string;
  /** Tried in order, e.g. ['cuda', 'cpu']; the first that loads is used. */
  executionProviders: string[];
  intraOpThreads?: number;
}

export interface StepReport {
  step: number;
  totalSteps: number;
  stepSeconds: number;
  expert: string;
}

export interface GenerateHooks {
  onStep?: (r: StepReport) => void;
  signal?: AbortSignal;
}

export interface DecodeTarget {
  width: number;
  height: number;
  numFrames: number;
}

/** The texts a generation is conditioned on: what `Generator.prepare` encodes ahead. */
export type PromptPair = Pick<GenerationSpec, "prompt" | "negativePrompt">;

/** Memory of the engine worker's V8 isolate; `rss` is the whole process (threads share it). */
export interface EngineMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface Generator {
  readonly info: ModelInfo;
  generate(spec: GenerationSpec, hooks?: GenerateHooks): Promise<Latents>;
  /**
   * Encodes the prompt pair now and keeps the embeddings in a small bounded cache, so a later
   * `generate` with the same texts skips text encoding. Served between two denoising steps of a
   * running `generate` (not queued behind it). Resolves when the embeddings are ready.
   */
  prepare(texts: PromptPair): Promise<void>;
  /** The engine worker's memory, answered between steps like `prepare` (for soak tests). */
  memoryUsage(): Promise<EngineMemory>;
  close(): Promise<void>;
}

export interface Decoder {
  readonly info: ModelInfo;
  /** Calls onFrames once per decoded chunk (rgb24, frame-major) and awaits it before decoding the next. */
  decode(
    latents: Latents,
    target: DecodeTarget,
    onFrames: (rgb24: Uint8Array, frameCount: number) => Promise<void> | void,
  ): Promise<void>;
  close(): Promise<void>;
}
