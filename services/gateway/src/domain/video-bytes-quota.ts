import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import type { Tier } from "@t2v/common/task";
import { msUntilNextUtcDay } from "./daily-quota.js";
import { ERROR_DOMAIN, GatewayErrorCode } from "./error-codes.js";

const DAY_S = 86_400;
export const GIB = 2 ** 30;

/**
 * The days before today whose counted results may still be stored: a result
 * counted on its finish day lives at most the longest retention, so it is
 * gone once that many whole days have passed; never more than the counts are
 * kept (`maxPastDays`).
 */
export function windowPastDays(longestRetentionSeconds: number, maxPastDays: number): number {
  return Math.min(maxPastDays, Math.max(0, Math.ceil(longestRetentionSeconds / DAY_S)));
}

/**
 * Whether a tenant with `storedBytes` in the window may create another task:
 * only while it is under its cap (a cap of 0 refuses every new task, like the
 * other quotas). The new task's own video is not known yet, so a tenant just
 * under its cap may still go over by the tasks it has in flight.
 */
export function mayStoreMore(storedBytes: number, capBytes: number): boolean {
  return storedBytes < capBytes;
}

/** GiB to two decimals (rounded down), for messages: "1.99 GiB". */
function gib(bytes: number): string {
  return `${Math.floor((bytes / GIB) * 100) / 100} GiB`;
}

/**
 * RESOURCE_EXHAUSTED for a tenant whose stored videos and posters (counted in
 * the window) reach its tier's byte cap: QuotaFailure naming the cap,
 * ErrorInfo VIDEO_BYTES_EXCEEDED and RetryInfo until the next UTC midnight,
 * when the window's oldest day leaves it (deleting results frees room sooner).
 */
export function videoBytesExceeded(
  tenantId: string,
  tier: Tier,
  capBytes: number,
  storedBytes: number,
  windowDays: number,
  nowMs: number,
): ConnectError {
  const retryMs = msUntilNextUtcDay(nowMs);
  const message = `stored video limit reached (${gib(storedBytes)} of ${gib(capBytes)} in videos and posters completed in the last ${windowDays} days on the ${tier} tier); delete results with DeleteTask, or wait for the oldest day to leave the window at midnight UTC`;
  return new ConnectError(message, Code.ResourceExhausted, undefined, [
    {
      desc: QuotaFailureSchema,
      value: create(QuotaFailureSchema, {
        violations: [
          {
            subject: `tenant:${tenantId}`,
            description: `${gib(capBytes)} of stored videos and posters (completed in the last ${windowDays} days, ${tier} tier)`,
          },
        ],
      }),
    },
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, {
        reason: GatewayErrorCode.videoBytesExceeded,
        domain: ERROR_DOMAIN,
        metadata: {
          tier,
          limit_bytes: String(capBytes),
          stored_bytes: String(storedBytes),
          window_days: String(windowDays),
        },
      }),
    },
    { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryMs) }) },
  ]);
}
