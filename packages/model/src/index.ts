// Public API of @t2v/model.
export type {
  Checkpoint,
  CheckpointPolicy,
  Decoder,
  DecodeTarget,
  EngineMemory,
  EngineOptions,
  GenerateHooks,
  GenerateResult,
  GenerationSpec,
  Generator,
  Latents,
  ModelInfo,
  Preview,
  PromptPair,
  RunStats,
  StepReport,
} from "./api-types.js";
export { CheckpointMismatchError, GenerationCancelledError, ModelInputError, ModelPackageError } from "./errors.js";
export { validateModelPackage } from "./load-model-package.js";
export type {
  ComponentFile,
  DenoiserExpert,
  LatentGeometry,
  ModelManifest,
  PreviewSpec,
  Resolution,
  SamplerSpec,
  TokenizerSpec,
  VaeDecoderComponent,
} from "./manifest.js";
export { MANIFEST_FORMAT, parseManifest } from "./manifest.js";
export type { ComponentContract, ComponentKind, TensorContract } from "./model-contract.js";
export { componentContract } from "./model-contract.js";
export { buildReferenceModel } from "./reference/build-reference-model.js";
export { decodeCheckpoint, encodeCheckpoint } from "./runtime/checkpoint-codec.js";
export { type CheckpointModel, checkpointKey, specHash } from "./runtime/checkpoint-key.js";
export { decodeLatents, encodeLatents } from "./runtime/latents-codec.js";
export { encodePreviewJpeg, PREVIEW_MAX_BYTES } from "./runtime/preview-jpeg.js";
export { latentFrameCount, maxFramesAt } from "./runtime/spec-check.js";
export { startDecoder } from "./runtime/start-decoder.js";
export { startGenerator } from "./runtime/start-generator.js";
