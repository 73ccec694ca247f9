import type {
  EngineMemory,
  EngineOptions,
  GenerateHooks,
  GenerateResult,
  GenerationSpec,
  Generator,
  PromptPair,
} from "../api-types.js";
import { GenerationCancelledError, ModelInputError } from "../errors.js";
import { checkResume } from "./check-resume.js";
import { CheckpointDelivery } from "./checkpoint-delivery.js";
import { EngineClient } from "./engine-client.js";
import type { WorkerRun } from "./engine-messages.js";
import { deserializeError } from "./error-transport.js";
import { isWholeSpec, resolveGenerationSpec } from "./spec-check.js";

/** Starts a generator worker: loads and contract-checks the package once, warms up, keeps sessions open. */
export async function startGenerator(opts: EngineOptions): Promise<Generator> {
  const client = await EngineClient.start("generator", opts);
  return {
    info: client.info,
    generate: (spec, hooks) => generate(client, spec, hooks ?? {}),
    prepare: (texts) => prepare(client, texts),
    memoryUsage: () => memoryUsage(client),
    close: () => client.close(),
  };
}

function generate(client: EngineClient, spec: GenerationSpec, hooks: GenerateHooks): Promise<GenerateResult> {
  return new Promise<GenerateResult>((resolve, reject) => {
    // Input errors and foreign checkpoints are answered here, without a round trip to the worker.
    const resolved = resolveGenerationSpec(spec, client.manifest);
    const { signal, preempt, resumeFrom } = hooks;
    if (resumeFrom !== undefined) checkResume(spec, resolved, client.info, resumeFrom);
    if (signal?.aborted === true) throw new GenerationCancelledError("generation cancelled before it started");
    const delivery = new CheckpointDelivery(hooks.onCheckpoint);
    let id = -1;
    const onAbort = (): void => client.send({ type: "cancel", id });
    const onPreempt = (): void => client.send({ type: "yield", id });
    const finish = (): void => {
      signal?.removeEventListener("abort", onAbort);
      preempt?.removeEventListener("abort", onPreempt);
    };
    const run = { ...workerRun(hooks), ...(preempt?.aborted === true ? { preempted: true } : {}) };
    // The worker gets its own copy of the resume latents: transferring would detach the caller's array.
    const transfer = run.resumeFrom !== undefined ? [run.resumeFrom.latents.data.buffer as ArrayBuffer] : [];
    id = client.call((callId) => ({ msg: { type: "generate", id: callId, spec: plainSpec(spec), run }, transfer }), {
      onMessage: (msg) => {
        switch (msg.type) {
          case "step":
            callSafely(() => hooks.onStep?.(msg.report));
            return false;
          case "preview":
            callSafely(() => hooks.onPreview?.(msg.preview));
            return false;
          case "checkpoint":
            delivery.offer(msg.checkpoint);
            return false;
          case "generated":
            finish();
            void delivery.settle(false).then(() => resolve(msg.result));
            return true;
          case "error":
            finish();
            void delivery.settle(true).then(() => reject(deserializeError(msg.error)));
            return true;
          default:
            return false;
        }
      },
      onFailure: (err) => {
        finish();
        void delivery.settle(true).then(() => reject(err));
      },
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    preempt?.addEventListener("abort", onPreempt, { once: true });
  });
}

/** A failing progress or preview callback must not break generation. */
function callSafely(f: () => void): void {
  try {
    f();
  } catch {
    // Ignored on purpose: the caller's callback owns its errors.
  }
}

/** The plain-data part of the hooks, with a private copy of the resume latents. */
function workerRun(hooks: GenerateHooks): WorkerRun {
  const r = hooks.resumeFrom;
  const wantsPreviews = hooks.onPreview !== undefined && (hooks.previewEvery ?? 0) > 0;
  return {
    ...(r !== undefined
      ? {
          resumeFrom: {
            specHash: r.specHash,
            model: r.model,
            modelVersion: r.modelVersion,
            step: r.step,
            totalSteps: r.totalSteps,
            latents: { dims: [...r.latents.dims], data: r.latents.data.slice() },
            denoiseSeconds: r.denoiseSeconds,
          },
        }
      : {}),
    ...(hooks.checkpointEvery !== undefined && hooks.onCheckpoint !== undefined
      ? { checkpointEvery: { ...hooks.checkpointEvery } }
      : {}),
    ...(wantsPreviews ? { previewEvery: hooks.previewEvery } : {}),
  };
}

function prepare(client: EngineClient, next: PromptPair | GenerationSpec): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (typeof next.prompt !== "string" || typeof next.negativePrompt !== "string")
      throw new ModelInputError("prompt and negativePrompt must be strings");
    // A whole spec is checked here as generate checks it, so the worker only draws valid noise.
    const spec = isWholeSpec(next) ? plainSpec(next) : undefined;
    if (spec) resolveGenerationSpec(spec, client.manifest);
    const plain = spec ?? { prompt: next.prompt, negativePrompt: next.negativePrompt };
    client.call((id) => ({ msg: { type: "prepare", id, next: plain } }), {
      onMessage: (msg) => {
        if (msg.type === "done") resolve();
        else if (msg.type === "error") reject(deserializeError(msg.error));
        else return false;
        return true;
      },
      onFailure: reject,
    });
  });
}

function memoryUsage(client: EngineClient): Promise<EngineMemory> {
  return new Promise<EngineMemory>((resolve, reject) => {
    client.call((id) => ({ msg: { type: "memory", id } }), {
      onMessage: (msg) => {
        if (msg.type === "memory") resolve(msg.usage);
        else if (msg.type === "error") reject(deserializeError(msg.error));
        else return false;
        return true;
      },
      onFailure: reject,
    });
  });
}

/** Copies only the spec fields, so extra properties (functions, class instances) never hit structured cloning. */
function plainSpec(s: GenerationSpec): GenerationSpec {
  return {
    prompt: s.prompt,
    negativePrompt: s.negativePrompt,
    width: s.width,
    height: s.height,
    numFrames: s.numFrames,
    frameRate: s.frameRate,
    seed: s.seed,
    ...(s.steps !== undefined ? { steps: s.steps } : {}),
    ...(s.guidanceScale !== undefined ? { guidanceScale: s.guidanceScale } : {}),
  };
}
