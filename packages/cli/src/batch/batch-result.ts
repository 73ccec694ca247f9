import type { LineError } from "./parse-batch-line.js";

export type LineStatus = "completed" | "failed" | "cancelled" | "invalid" | "error" | "skipped";

/** One line of DIR/results.jsonl, for the input line of the same number. */
export interface BatchResult {
  line: number;
  task_id: string | null;
  status: LineStatus;
  /** The MP4's name inside DIR, once completed. */
  file: string | null;
  error: LineError | null;
}

/** Blank lines are skipped and do not count against success. */
export function succeeded(r: BatchResult): boolean {
  return r.status === "completed" || r.status === "skipped";
}
