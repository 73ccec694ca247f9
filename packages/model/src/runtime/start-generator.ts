import type {
  EngineMemory,
  EngineOptions,
  GenerateHooks,
  GenerationSpec,
  Generator,
  Latents,
  PromptPair,
} from "../api-types.js";
import { GenerationCancelledError, ModelInputError } from "../errors.js";
import { EngineClient } from "./engine-client.js";
import { deserializeError } from "./error-transport.js";
import { resolveGenerationSpec } from "./spec-check.js";

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

function generate(client: EngineClient, spec: GenerationSpec, hooks: GenerateHooks): Promise<Latents> {
  return new Promise<Latents>((resolve, reject) => {
    // Input errors are answered here, without a round trip to the worker.
    resolveGenerationSpec(spec, client.manifest);
    const { signal } = hooks;
    if (signal?.aborted === true) throw new GenerationCancelledError("generation cancelled before it started");
    let id = -1;
    const onAbort = (): void => client.send({ type: "cancel", id });
    const finish = (): void => signal?.removeEventListener("abort", onAbort);
    id = client.call((callId) => ({ msg: { type: "generate", id: callId, spec: plainSpec(spec) } }), {
      onMessage: (msg) => {
        switch (msg.type) {
          case "step":
            try {
              hooks.onStep?.(msg.report);
            } catch {
              // A failing progress callback must not break generation.
            }
            return false;
          case "latents":
            finish();
            resolve({ dims: msg.dims, data: new Float32Array(msg.data) });
            return true;
          case "error":
            finish();
            reject(deserializeError(msg.error));
            return true;
          default:
            return false;
        }
      },
      onFailure: (err) => {
        finish();
        reject(err);
      },
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function prepare(client: EngineClient, texts: PromptPair): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (typeof texts.prompt !== "string" || typeof texts.negativePrompt !== "string")
      throw new ModelInputError("prompt and negativePrompt must be strings");
    const plain = { prompt: texts.prompt, negativePrompt: texts.negativePrompt };
    client.call((id) => ({ msg: { type: "prepare", id, texts: plain } }), {
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
