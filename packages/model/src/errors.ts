// Error classes the services branch on: package faults are operator errors, input errors are
// permanent (do not retry), cancellation is a normal outcome.

/** The model package on disk is missing a file or does not match the contract. */
export class ModelPackageError extends Error {
  override readonly name = "ModelPackageError";
}

/** The request asks for something this model cannot serve; retrying will not help. */
export class ModelInputError extends Error {
  override readonly name = "ModelInputError";
}

/** The caller's AbortSignal fired; checked between denoising steps. */
export class GenerationCancelledError extends Error {
  override readonly name = "GenerationCancelledError";
}

/** A checkpoint given to resume from was made for another spec or model version, or is malformed; start over from step 0. */
export class CheckpointMismatchError extends Error {
  override readonly name = "CheckpointMismatchError";
}
