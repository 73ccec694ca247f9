import * as ort from "onnxruntime-node";
import type {
  Checkpoint,
  CheckpointPolicy,
  GenerateResult,
  GenerationSpec,
  ModelInfo,
  Preview,
  PromptPair,
  StepReport,
} from "../api-types.js";
import { GenerationCancelledError } from "../errors.js";
import type { ModelManifest } from "../manifest.js";
import { ActiveTimer } from "./active-timer.js";
import { checkResume } from "./check-resume.js";
import { specHash } from "./checkpoint-key.js";
import { CheckpointSchedule } from "./checkpoint-schedule.js";
import { flowSigmas, selectExpert } from "./flow-schedule.js";
import {
  cleanEstimateFrame,
  fallbackProjection,
  latentPreview,
  type PreviewProjection,
  previewFrameIndex,
} from "./latent-preview.js";
import { type OpenedComponents, openComponents, sessionFor } from "./open-components.js";
import { PreparedNoise } from "./prepared-noise.js";
import { isWholeSpec, type LatentShape, resolveGenerationSpec } from "./spec-check.js";
import { TextCache } from "./text-cache.js";
import { tokenizeBatch } from "./tokenizer.js";

interface TextInputs {
  embeddings: ort.Tensor;
  mask: ort.Tensor;
}

/** Prompt pairs kept encoded: the running task's, the next one's, and a little slack for retries. */
const TEXT_CACHE_ENTRIES = 4;

/** What the caller wants at a step boundary: go on, stop with GenerationCancelledError, or stop with a checkpoint. */
export type BoundaryDecision = "continue" | "cancel" | "yield";

export interface GenerateCallbacks {
  onStep: (r: StepReport) => void;
  /** Awaited before every step, so cancel/yield messages get through. */
  boundary: () => Promise<BoundaryDecision>;
  /** Gets its own copy of the latents (the caller may transfer it). */
  onCheckpoint: (c: Checkpoint) => void;
  onPreview: (p: Preview) => void;
}

export interface EngineRun {
  resumeFrom?: Checkpoint;
  checkpointEvery?: CheckpointPolicy;
  previewEvery?: number;
}

/** Text encoder + denoiser experts + flow-matching Euler sampler with batched CFG. Runs inside the worker. */
export class GeneratorEngine {
  private readonly texts = new TextCache<TextInputs>(TEXT_CACHE_ENTRIES);
  private readonly noise = new PreparedNoise();

  private constructor(
    private readonly opened: OpenedComponents,
    readonly info: ModelInfo,
    private readonly projection: PreviewProjection,
  ) {}

  static async load(modelDir: string, providers: string[], intraOpThreads: number): Promise<GeneratorEngine> {
    const opened = await openComponents(modelDir, (c) => c.kind !== "vaeDecoder", providers, intraOpThreads);
    const m = opened.manifest;
    const projection =
      m.preview !== undefined
        ? {
            factors: m.preview.latentRgbFactors,
            bias: m.preview.latentRgbBias,
            activation: m.preview.activation ?? "linear",
            smoothing: m.preview.smoothing ?? [],
          }
        : fallbackProjection(m.latent.channels);
    const engine = new GeneratorEngine(
      opened,
      {
        name: m.name,
        version: m.version,
        defaultSteps: m.sampler.defaultSteps,
        executionProvider: opened.provider,
      },
      projection,
    );
    await engine.warmUp();
    return engine;
  }

  get manifest(): ModelManifest {
    return this.opened.manifest;
  }

  async generate(spec: GenerationSpec, run: EngineRun, cb: GenerateCallbacks): Promise<GenerateResult> {
    const timer = new ActiveTimer();
    const m = this.manifest;
    const resolved = resolveGenerationSpec(spec, m);
    const { shape, steps, guidanceScale } = resolved;
    const resume = run.resumeFrom;
    if (resume !== undefined) checkResume(spec, resolved, this.info, resume);
    const text = await this.textInputs(spec);
    // The noise is drawn only for step 0; after that it lives inside the latents.
    const x = resume !== undefined ? resume.latents.data.slice() : this.noise.take(shape, spec.seed);
    const startStep = resume?.step ?? 0;
    const priorSeconds = resume?.denoiseSeconds ?? 0;
    const hash = specHash(spec, this.info);
    const n = x.length;
    const dims = [2, shape.channels, shape.frames, shape.height, shape.width];
    const latentDims = [shape.channels, shape.frames, shape.height, shape.width];
    const checkpointAt = (step: number): Checkpoint => ({
      specHash: hash,
      model: this.info.name,
      modelVersion: this.info.version,
      step,
      totalSteps: steps,
      latents: { dims: latentDims, data: x.slice() },
      denoiseSeconds: priorSeconds + timer.seconds(),
    });
    const schedule = new CheckpointSchedule(run.checkpointEvery, steps);
    const previewEvery = run.previewEvery ?? 0;
    const previewFrame = previewFrameIndex(shape);
    // Conditional and unconditional (negative prompt) passes share one run with batch 2.
    const batched = new Float32Array(2 * n);
    const sigmas = flowSigmas(steps, m.sampler.shift);
    for (let i = startStep; i < steps; i++) {
      timer.pause();
      const decision = await cb.boundary();
      timer.resume();
      if (decision === "cancel")
        throw new GenerationCancelledError(`generation cancelled before step ${i + 1} of ${steps}`);
      if (decision === "yield") {
        const checkpoint = checkpointAt(i);
        return { kind: "yielded", checkpoint, denoiseSeconds: timer.seconds(), startStep, stepsRun: i - startStep };
      }
      const started = performance.now();
      const sigma = sigmas[i] ?? 0;
      const next = sigmas[i + 1] ?? 0;
      const timestep = sigma * m.sampler.numTrainTimesteps;
      const expert = selectExpert(m.components.denoisers, timestep, m.sampler);
      batched.set(x, 0);
      batched.set(x, n);
      const out = await sessionFor(this.opened, expert.file).run({
        latents: new ort.Tensor("float32", batched, dims),
        timestep: new ort.Tensor("float32", Float32Array.from([timestep, timestep]), [2]),
        text_embeddings: text.embeddings,
        text_mask: text.mask,
      });
      const v = out.velocity?.data;
      if (!(v instanceof Float32Array) || v.length !== 2 * n)
        throw new Error(`${expert.file}: velocity output has the wrong type or size`);
      const scale = guidanceScale ?? expert.guidanceScale ?? m.sampler.guidanceScale;
      const completed = i + 1;
      // Before the Euler update: the clean estimate uses x_t and sigma_t of this step.
      const preview =
        previewEvery > 0 && completed % previewEvery === 0
          ? latentPreview(cleanEstimateFrame(x, v, scale, sigma, shape, previewFrame), shape, this.projection)
          : undefined;
      const dt = next - sigma;
      for (let j = 0; j < n; j++) {
        const vc = v[j] as number;
        const vu = v[n + j] as number;
        x[j] = (x[j] as number) + dt * (vu + scale * (vc - vu));
      }
      disposeAll(out);
      cb.onStep({
        step: completed,
        totalSteps: steps,
        stepSeconds: (performance.now() - started) / 1000,
        expert: expert.name,
      });
      if (preview !== undefined) cb.onPreview({ step: completed, totalSteps: steps, ...preview });
      if (schedule.due(completed, timer.seconds())) cb.onCheckpoint(checkpointAt(completed));
    }
    return {
      kind: "done",
      latents: { dims: latentDims, data: x },
      denoiseSeconds: timer.seconds(),
      startStep,
      stepsRun: steps - startStep,
    };
  }

  /** Encodes the pair into the cache now, and for a whole spec draws its noise, so the generate that follows skips both. */
  async prepare(next: PromptPair | GenerationSpec): Promise<void> {
    const text = this.textInputs(next);
    if (isWholeSpec(next)) this.noise.prepare(resolveGenerationSpec(next, this.manifest).shape, next.seed);
    await text;
  }

  async release(): Promise<void> {
    for (const s of this.opened.sessions.values()) await s.release();
  }

  private textInputs(texts: PromptPair): Promise<TextInputs> {
    return this.texts.get(texts.prompt, texts.negativePrompt, () =>
      this.encodeText(texts.prompt, texts.negativePrompt),
    );
  }

  private async encodeText(prompt: string, negative: string): Promise<TextInputs> {
    const tokens = tokenizeBatch([prompt, negative], this.manifest.tokenizer);
    const mask = new ort.Tensor("int64", tokens.mask, [tokens.batch, tokens.length]);
    const out = await sessionFor(this.opened, this.manifest.components.textEncoder.file).run({
      input_ids: new ort.Tensor("int64", tokens.ids, [tokens.batch, tokens.length]),
      attention_mask: mask,
    });
    const embeddings = out.text_embeddings;
    if (embeddings === undefined) throw new Error("text encoder returned no text_embeddings");
    return { embeddings, mask };
  }

  /** One small run per session so the first real request does not pay graph initialisation. */
  private async warmUp(): Promise<void> {
    const m = this.manifest;
    const smallest = [...m.resolutions].sort((a, b) => a.width * a.height - b.width * b.height)[0];
    if (smallest === undefined) return;
    const s = m.latent.spatialCompression;
    const text = await this.encodeText("", "");
    const shape: LatentShape = {
      channels: m.latent.channels,
      frames: 2,
      height: smallest.height / s,
      width: smallest.width / s,
    };
    const size = shape.channels * shape.frames * shape.height * shape.width;
    for (const d of m.components.denoisers) {
      const out = await sessionFor(this.opened, d.file).run({
        latents: new ort.Tensor("float32", new Float32Array(2 * size), [
          2,
          shape.channels,
          shape.frames,
          shape.height,
          shape.width,
        ]),
        timestep: new ort.Tensor("float32", Float32Array.from([d.minTimestep, d.minTimestep]), [2]),
        text_embeddings: text.embeddings,
        text_mask: text.mask,
      });
      disposeAll(out);
    }
  }
}

function disposeAll(out: Record<string, ort.Tensor>): void {
  for (const t of Object.values(out)) t.dispose();
}
