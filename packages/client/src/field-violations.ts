import { ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@t2v/common/gen/google/rpc/error_details_pb";

export interface FieldViolation {
  /** snake_case path as the server names it: "prompt", "duration", "negative_prompt". */
  field: string;
  description: string;
}

/** The google.rpc.BadRequest field violations the server attached to an error (none for other errors). */
export function fieldViolations(err: unknown): FieldViolation[] {
  if (!(err instanceof ConnectError)) return [];
  return err
    .findDetails(BadRequestSchema)
    .flatMap((b) => b.fieldViolations)
    .map((v) => ({ field: v.field, description: v.description }));
}
