import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";

export interface FieldViolation {
  field: string;
  description: string;
  reason?: string;
}

/** INVALID_ARGUMENT with google.rpc.BadRequest details naming each bad field. */
export function invalidArgument(violations: FieldViolation[]): ConnectError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new ConnectError(summary, Code.InvalidArgument, undefined, [
    {
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: violations.map((v) => ({
          field: v.field,
          description: v.description,
          reason: v.reason ?? "",
        })),
      }),
    },
  ]);
}

export function notFound(what: string): ConnectError {
  return new ConnectError(`${what} not found`, Code.NotFound);
}

/** RESOURCE_EXHAUSTED or UNAVAILABLE with google.rpc.RetryInfo. */
export function retryLater(message: string, retryAfterMs: number, code = Code.ResourceExhausted): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryAfterMs) }) },
  ]);
}
