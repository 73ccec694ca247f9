import { GenerationCancelledError, ModelInputError } from "@t2v/model";

export type FailureKind = "cancelled" | "permanent" | "transient";

/** Only errors another try could fix are worth a retry. */
export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof GenerationCancelledError) return "cancelled";
  if (err instanceof ModelInputError) return "permanent";
  return "transient";
}
