/**
 * Delay before delivery attempt `n + 1` after `n` failed ones: the Standard
 * Webhooks schedule (5 s, 5 min, 30 min, 2 h, 5 h, then 10 h), which spans
 * close to three days over twelve attempts.
 */
const SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];

/** `scale` shrinks the schedule for tests (WEBHOOK_RETRY_BASE_MS / 5000). */
export function webhookRetryDelayMs(failedAttempts: number, scale = 1): number {
  const i = Math.min(Math.max(failedAttempts, 1), SCHEDULE_MS.length + 1) - 1;
  return Math.round((SCHEDULE_MS[i] ?? SCHEDULE_MS[SCHEDULE_MS.length - 1] ?? 0) * scale);
}
