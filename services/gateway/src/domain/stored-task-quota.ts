import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import type { Tier } from "@t2v/common/task";
import { msUntilNextUtcDay } from "./daily-quota.js";
import { ERROR_DOMAIN, GatewayErrorCode } from "./error-codes.js";

/**
 * How many of today's tasks a tenant may still create under its stored-task
 * cap, given what it created on the window's earlier days: the daily take is
 * run with the smaller of this and the daily quota, so one compare-and-swap
 * enforces both.
 */
export function roomToday(storedLimit: number, storedBefore: number): number {
  return Math.max(0, storedLimit - storedBefore);
}

/**
 * RESOURCE_EXHAUSTED for a tenant holding as many stored tasks (created in
 * the retention window, deleted ones included) as its tier allows:
 * QuotaFailure naming the limit, ErrorInfo STORED_TASKS_EXCEEDED and RetryInfo
 * until the next UTC midnight, when the window's oldest day leaves it.
 */
export function storedTasksExceeded(
  tenantId: string,
  tier: Tier,
  limit: number,
  windowDays: number,
  nowMs: number,
): ConnectError {
  const retryMs = msUntilNextUtcDay(nowMs);
  const message = `stored task limit reached (${limit} tasks created in the last ${windowDays} days on the ${tier} tier); the oldest day leaves the window at midnight UTC`;
  return new ConnectError(message, Code.ResourceExhausted, undefined, [
    {
      desc: QuotaFailureSchema,
      value: create(QuotaFailureSchema, {
        violations: [
          {
            subject: `tenant:${tenantId}`,
            description: `${limit} stored tasks (created in the last ${windowDays} days, ${tier} tier)`,
          },
        ],
      }),
    },
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, {
        reason: GatewayErrorCode.storedTasksExceeded,
        domain: ERROR_DOMAIN,
        metadata: { tier, limit: String(limit), window_days: String(windowDays) },
      }),
    },
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryMs) }) },
  ]);
}
