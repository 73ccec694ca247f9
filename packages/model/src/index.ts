// Public API of @t2v/model.
export type {
  Decoder,
  DecodeTarget,
  EngineMemory,
  EngineOptions,
  GenerateHooks,
  GenerationSpec,
  Generator,
  Latents,
  ModelInfo,
  PromptPair,
  StepReport,
} from "./api-types.js";
export { GenerationCancelledError, ModelInputError, ModelPackageError } from "./errors.js";
export { validateModelPackage } from "./load-model-package.js";
export type {
  ComponentFile,
  DenoiserExpert,
  LatentGeometry,
  ModelManifest,
  Resolution,
  SamplerSpec,
  TokenizerSpec,
  VaeDecoderComponent,
} from "./manifest.js";
export { MANIFEST_FORMAT, parseManifest } from "./manifest.js";
export type { ComponentContract, ComponentKind, TensorContract } from "./model-contract.js";
export { componentContract } from "./model-contract.js";
export { buildReferenceModel } from "./reference/build-reference-model.js";
export { decodeLatents, encodeLatents } from "./runtime/latents-codec.js";
export { latentFrameCount, maxFramesAt } from "./runtime/spec-check.js";
export { startDecoder } from "./runtime/start-decoder.js";
export { startGenerator } from "./runtime/start-generator.js";
