import { CheckpointMismatchError, GenerationCancelledError, ModelInputError, ModelPackageError } from "../errors.js";
import type { SerializedError } from "./engine-messages.js";

// Error classes do not survive structured cloning, so errors cross the thread boundary as {kind, message}.

export function serializeError(err: unknown): SerializedError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ModelPackageError) return { kind: "ModelPackageError", message };
  if (err instanceof ModelInputError) return { kind: "ModelInputError", message };
  if (err instanceof GenerationCancelledError) return { kind: "GenerationCancelledError", message };
  if (err instanceof CheckpointMismatchError) return { kind: "CheckpointMismatchError", message };
  return { kind: "Error", message };
}

export function deserializeError(e: SerializedError): Error {
  switch (e.kind) {
    case "ModelPackageError":
      return new ModelPackageError(e.message);
    case "ModelInputError":
      return new ModelInputError(e.message);
    case "GenerationCancelledError":
      return new GenerationCancelledError(e.message);
    case "CheckpointMismatchError":
      return new CheckpointMismatchError(e.message);
    case "Error":
      return new Error(e.message);
  }
}
