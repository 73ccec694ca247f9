import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import type { Tier } from "@t2v/common/task";
import { ERROR_DOMAIN, GatewayErrorCode } from "./error-codes.js";

const DAY_MS = 86_400_000;

/** Time left until the next UTC midnight, when every tenant's daily count starts again (at least 1 s). */
export function msUntilNextUtcDay(nowMs: number): number {
  return Math.max(1_000, (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS - nowMs);
}

/**
 * RESOURCE_EXHAUSTED for a tenant that used its tier's daily task quota:
 * google.rpc.QuotaFailure (what ran out), ErrorInfo DAILY_QUOTA_EXCEEDED
 * (with the limit and the reset time) and RetryInfo until the next UTC day.
 */
export function dailyQuotaExceeded(tenantId: string, tier: Tier, limit: number, nowMs: number): ConnectError {
  const retryMs = msUntilNextUtcDay(nowMs);
  const resetsAt = new Date(nowMs + retryMs).toISOString();
  const message = `daily task quota used (${limit} tasks per UTC day on the ${tier} tier); it resets at ${resetsAt}`;
  return new ConnectError(message, Code.ResourceExhausted, undefined, [
    {
      desc: QuotaFailureSchema,
      value: create(QuotaFailureSchema, {
        violations: [{ subject: `tenant:${tenantId}`, description: `${limit} tasks per UTC day (${tier} tier)` }],
      }),
    },
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, {
        reason: GatewayErrorCode.dailyQuotaExceeded,
        domain: ERROR_DOMAIN,
        metadata: { tier, limit: String(limit), resets_at: resetsAt },
      }),
    },
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryMs) }) },
  ]);
}
