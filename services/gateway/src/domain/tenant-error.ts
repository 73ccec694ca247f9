/**
 * What a tenant may read of a task's failure. The scheduler writes a stable
 * code and a short message and keeps the detail (onnxruntime's or ffmpeg's
 * words, paths, stack traces) in the record's `last_error` and the dead
 * letter; this is the gateway's second fence, at the view every protocol
 * shares: a message is shown only in one of the shapes the mesh writes, anything
 * else (an older record, a worker that put its exception in the message) reads
 * as the code's short message. The record itself is not changed.
 */

/** The short message of each code, as the scheduler and the gateway write them. */
const SAFE_MESSAGE: Readonly<Record<string, string>> = {
  INVALID_INPUT: "the model cannot render this request",
  MODEL_RUNTIME_ERROR: "the model failed while rendering",
  ENCODER_ERROR: "the video could not be encoded",
  DEADLINE_EXCEEDED: "deadline exceeded before the video was ready",
  START_TIMEOUT: "no worker started the task before its start_timeout",
  WORKER_LOST: "the worker running the task stopped responding",
  RETRIES_EXHAUSTED: "every attempt failed",
  CANCELLED_BY_USER: "cancelled by its owner",
  INTERNAL: "internal error",
};

/** Other exact messages the gateway writes. */
const GATEWAY_MESSAGES = new Set(["could not be queued; please retry"]);

const CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const RETRYING = /^attempt \d{1,4} failed \(([A-Z][A-Z0-9_]{0,39})\); retrying$/;
const EXHAUSTED = /^failed after \d{1,4} attempts: (.{1,120})$/;

const safeMessages = new Set(Object.values(SAFE_MESSAGE));

function isSafe(message: string): boolean {
  if (safeMessages.has(message) || GATEWAY_MESSAGES.has(message) || RETRYING.test(message)) return true;
  const inner = EXHAUSTED.exec(message)?.[1];
  return inner !== undefined && safeMessages.has(inner);
}

/** The code and message a tenant sees: the stored ones when they have a shape the mesh writes, else the code's short message. */
export function tenantError(code: string, message: string): { code: string; message: string } {
  const safeCode = code === "" || CODE.test(code) ? code : "INTERNAL";
  if (message === "" || isSafe(message)) return { code: safeCode, message };
  const fallback = SAFE_MESSAGE[safeCode];
  return { code: safeCode, message: fallback ?? (safeCode ? `the task failed (${safeCode})` : "the task failed") };
}
