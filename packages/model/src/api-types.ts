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

/** When to hand out a checkpoint; either condition triggers one at a step boundary (checked after each step). */
export interface CheckpointPolicy {
  /** After every `steps` completed steps (counted from step 0 of the clip, so a resumed run keeps the cadence). */
  steps?: number;
  /** When at least this many denoise seconds passed since the last checkpoint (or the start of this run). */
  seconds?: number;
}

/**
 * The complete denoising state at a step boundary. Flow-matching Euler carries no state besides
 * the latents: the noise is only used at step 0 (it is inside the latents after that), the sigma
 * schedule is a pure function of (steps, shift), and the text embeddings are recomputed
 * bit-identically from the prompts. So `latents` + `step` resume bit-identically.
 */
export interface Checkpoint {
  /** `specHash(spec, info)`: SHA-256 (hex) of the effective spec (resolved steps included). */
  specHash: string;
  model: string;
  modelVersion: string;
  /** Steps completed: the resumed run starts with step `step + 1` (0 = before the first step). */
  step: number;
  totalSteps: number;
  /** Latents after `step` steps, [channels, latentFrames, latentH, latentW]. */
  latents: Latents;
  /** Denoise seconds spent on this clip up to the checkpoint, summed over every run that led to it. */
  denoiseSeconds: number;
}

/** The middle frame of the current clean-video estimate (x0 = x_t - sigma_t v), as a small rgb24 image. */
export interface Preview {
  /** The step after which it was made (1-based, as in StepReport). */
  step: number;
  totalSteps: number;
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major RGB. */
  rgb: Uint8Array;
}

export interface GenerateHooks {
  onStep?: (r: StepReport) => void;
  /** Cancel: rejects with GenerationCancelledError within one step. */
  signal?: AbortSignal;
  /**
   * Preempt (distinct from cancel): stop at the next step boundary and resolve with
   * `{ kind: "yielded", checkpoint }`. If the last step finishes first, the result is "done".
   */
  preempt?: AbortSignal;
  /** Continue from this checkpoint instead of starting from noise. Refused (CheckpointMismatchError) unless it was made for this spec and model version. */
  resumeFrom?: Checkpoint;
  /** Hand out checkpoints through onCheckpoint. Never after the last step (the result is the final state). */
  checkpointEvery?: CheckpointPolicy;
  /**
   * Gets each checkpoint (its own copy). Denoising does not wait for it; at most one call is in
   * flight and a newer checkpoint replaces one still waiting, so a slow store never piles up
   * copies. A rejection is ignored (the next checkpoint supersedes it). `generate` settles after
   * the call in flight has settled, so a late store cannot overwrite a newer yielded checkpoint.
   */
  onCheckpoint?: (c: Checkpoint) => Promise<void> | void;
  /** Make a preview after every `previewEvery` completed steps (counted from step 0 of the clip). */
  previewEvery?: number;
  onPreview?: (p: Preview) => void;
}

/** What one `generate` call spent, for billing the device time actually used. */
export interface RunStats {
  /** Seconds this call spent in the engine: text encoding (unless cached), noise, and its steps. */
  denoiseSeconds: number;
  /** Step the run started from (0, or the checkpoint's step). */
  startStep: number;
  /** Steps this call ran. */
  stepsRun: number;
}

export type GenerateResult =
  | ({ kind: "done"; latents: Latents } & RunStats)
  | ({ kind: "yielded"; checkpoint: Checkpoint } & RunStats);

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
  /** Runs the sampler to the end ("done") or to a step boundary after `preempt` fired ("yielded"). */
  generate(spec: GenerationSpec, hooks?: GenerateHooks): Promise<GenerateResult>;
  /**
   * Encodes the prompt pair now and keeps the embeddings in a small bounded cache, so a later
   * `generate` with the same texts skips text encoding; given a whole spec, also draws its
   * initial noise (kept for the next `generate` of the same seed and size: drawing it takes
   * ~240 ms for a 720p 10 s clip on a 2-core VM, all before the first step).
   * Served between two denoising steps of a running `generate` (not queued behind it).
   * Resolves when both are ready.
   */
  prepare(next: PromptPair | GenerationSpec): Promise<void>;
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
