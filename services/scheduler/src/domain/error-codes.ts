import type { TaskFailed } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";

/**
 * The stable codes of Task.error_code the scheduler decides, and the short
 * message a user is shown for each. The detail (onnxruntime's or ffmpeg's
 * words, paths) stays in the logs, the record's last_error and the dead
 * letter; it never reaches error_message. The README's table lists every code.
 */
export const ErrorCode = {
  invalidInput: "INVALID_INPUT",
  modelRuntimeError: "MODEL_RUNTIME_ERROR",
  encoderError: "ENCODER_ERROR",
  deadlineExceeded: "DEADLINE_EXCEEDED",
  startTimeout: "START_TIMEOUT",
  retriesExhausted: "RETRIES_EXHAUSTED",
  workerLost: "WORKER_LOST",
  pauseExpired: "PAUSE_EXPIRED",
  internal: "INTERNAL",
} as const;

const SAFE_MESSAGE: Readonly<Record<string, string>> = {
  [ErrorCode.invalidInput]: "the model cannot render this request",
  [ErrorCode.modelRuntimeError]: "the model failed while rendering",
  [ErrorCode.encoderError]: "the video could not be encoded",
  [ErrorCode.deadlineExceeded]: "deadline exceeded before the video was ready",
  [ErrorCode.startTimeout]: "no worker started the task before its start_timeout",
  [ErrorCode.workerLost]: "the worker running the task stopped responding",
  [ErrorCode.pauseExpired]: "paused longer than PAUSED_TTL_HOURS; its checkpoint was deleted",
  [ErrorCode.internal]: "internal error",
};

/** What users read for a code. */
export function safeMessage(code: string): string {
  return SAFE_MESSAGE[code] ?? SAFE_MESSAGE[ErrorCode.internal] ?? "internal error";
}

/** The code of one failed attempt: the worker's, or (older workers) derived from where and how it failed. */
export function attemptFailureCode(f: Pick<TaskFailed, "errorCode" | "stage" | "retryable">): string {
  if (f.errorCode !== "") return f.errorCode;
  if (f.stage === "reconciler") return ErrorCode.workerLost;
  if (f.stage === "encode") return ErrorCode.encoderError;
  return f.retryable ? ErrorCode.modelRuntimeError : ErrorCode.invalidInput;
}

/** The task's code and message once an attempt failed for good: RETRIES_EXHAUSTED after a retryable one. */
export function finalFailure(
  f: Pick<TaskFailed, "errorCode" | "stage" | "retryable">,
  attempts: number,
): { errorCode: string; errorMessage: string } {
  const code = attemptFailureCode(f);
  if (!f.retryable) return { errorCode: code, errorMessage: safeMessage(code) };
  return {
    errorCode: ErrorCode.retriesExhausted,
    errorMessage: `failed after ${attempts} attempts: ${safeMessage(code)}`,
  };
}
