import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { GatewayErrorCode } from "../../domain/error-codes.js";

const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.OutOfRange]: 400,
  [Code.FailedPrecondition]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Aborted]: 409,
  [Code.ResourceExhausted]: 429,
  [Code.Canceled]: 499,
  [Code.Unavailable]: 503,
  [Code.DeadlineExceeded]: 504,
};

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: {
    detail: string;
    error: {
      code: string;
      message: string;
      /** The stable error code (INVALID_INPUT, QUOTA_EXCEEDED, ...), when the failure has one. */
      error_code?: string;
      field_violations?: { field: string; description: string }[];
    };
  };
}

/**
 * A ConnectError as the REST API's answer: the HTTP status (413 for a body over
 * the limit), Retry-After for RESOURCE_EXHAUSTED, and a JSON body with a message (FastAPI's "detail", as
 * the reference Python server sends) and the field violations.
 */
export function errorResponse(err: unknown): ErrorResponse {
  const e = ConnectError.from(err);
  const reason = e.findDetails(ErrorInfoSchema)[0]?.reason;
  const status = reason === GatewayErrorCode.requestTooLarge ? 413 : (HTTP_STATUS[e.code] ?? 500);
  const headers: Record<string, string> = {};
  const retry = e.findDetails(RetryInfoSchema)[0]?.retryDelay;
  if (retry) headers["retry-after"] = String(Math.max(1, Math.ceil(Number(retry.seconds) + retry.nanos / 1e9)));
  const violations = e.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations);
  return {
    status,
    headers,
    body: {
      detail: e.rawMessage,
      error: {
        code: (Code[e.code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(),
        message: e.rawMessage,
        ...(reason ? { error_code: reason } : {}),
        ...(violations.length > 0
          ? { field_violations: violations.map((v) => ({ field: v.field, description: v.description })) }
          : {}),
      },
    },
  };
}
