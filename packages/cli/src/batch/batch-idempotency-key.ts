import { createHash } from "node:crypto";

/**
 * The idempotency key of a batch line that brings none: the same line at the
 * same place gives the same key, so a re-run after an interruption gets the
 * tasks submitted before it back instead of new ones. The line number is
 * part of it so that two identical lines (no seed) still make two clips.
 */
export function batchIdempotencyKey(lineNumber: number, text: string): string {
  const digest = createHash("sha256").update(`${lineNumber}\n${text.trim()}`).digest("hex");
  return `t2v-batch-${digest.slice(0, 40)}`;
}
