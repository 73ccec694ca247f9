import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { ERROR_DOMAIN, GatewayErrorCode } from "./error-codes.js";

export interface FieldViolation {
  field: string;
  description: string;
  reason?: string;
}

/** A google.rpc.ErrorInfo detail whose reason is one of the stable error codes (error-codes.ts). */
export function errorInfo(code: string) {
  return { desc: ErrorInfoSchema, value: create(ErrorInfoSchema, { reason: code, domain: ERROR_DOMAIN }) };
}

/** INVALID_ARGUMENT with google.rpc.BadRequest details naming each bad field, and the INVALID_INPUT code. */
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
    errorInfo(GatewayErrorCode.invalidInput),
  ]);
}

/** FAILED_PRECONDITION with the error code `reason` as google.rpc.ErrorInfo. */
export function failedPrecondition(message: string, reason: string): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition, undefined, [errorInfo(reason)]);
}

export function notFound(what: string): ConnectError {
  return new ConnectError(`${what} not found`, Code.NotFound);
}

/** RESOURCE_EXHAUSTED or UNAVAILABLE with google.rpc.RetryInfo, and the error code `reason` when given. */
export function retryLater(
  message: string,
  retryAfterMs: number,
  code = Code.ResourceExhausted,
  reason?: string,
): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryAfterMs) }) },
    ...(reason ? [errorInfo(reason)] : []),
  ]);
}
