import { commonFields, int } from "@t2v/common";

export const schedulerConfig = {
  ...commonFields,
  maxAttempts: int("MAX_ATTEMPTS", "tries per task before it fails", 3, 1, 20),
  retryBaseDelayMs: int("RETRY_BASE_DELAY_MS", "first retry's backoff ceiling", 2_000, 0, 3_600_000),
  retryMaxDelayMs: int("RETRY_MAX_DELAY_MS", "largest retry backoff", 60_000, 0, 86_400_000),
  videoTtlHours: int("VIDEO_TTL_HOURS", "how long finished videos are kept", 168, 1, 24 * 365),
};
