/**
 * The stable codes the gateway gives a failure (Task.error_code, and the
 * reason of a google.rpc.ErrorInfo on a refused call); the scheduler and the
 * workers have their own. The README's error-code table lists them all.
 */
export const GatewayErrorCode = {
  /** The request broke the contract or a semantic rule. */
  invalidInput: "INVALID_INPUT",
  /** The tenant has as many queued tasks as its tier allows. */
  quotaExceeded: "QUOTA_EXCEEDED",
  /** The tenant submitted as many tasks this UTC day as its tier allows (DAILY_TASK_QUOTA_*). */
  dailyQuotaExceeded: "DAILY_QUOTA_EXCEEDED",
  /** The tenant holds as many stored tasks (created in the retention window) as its tier allows (STORED_TASKS_PER_TENANT_*). */
  storedTasksExceeded: "STORED_TASKS_EXCEEDED",
  /** The tenant's stored videos and posters hold as many bytes as its tier allows (VIDEO_BYTES_PER_TENANT_*_GB). */
  videoBytesExceeded: "VIDEO_BYTES_EXCEEDED",
  /** The API key's request rate is spent for now. */
  rateLimited: "RATE_LIMITED",
  /** The API key (or its tenant) holds as many open task streams as allowed. */
  streamLimit: "STREAM_LIMIT",
  /** A task stream's reader stopped reading and fell behind; reconnect. */
  slowReader: "SLOW_READER",
  /** The API key of an open stream was revoked. */
  keyRevoked: "KEY_REVOKED",
  /** Too many failed authentications from the caller's address: calls from it wait (RetryInfo). */
  authFailuresLimited: "AUTH_FAILURES_LIMITED",
  /** The request (or one of its messages) is over REQUEST_MAX_BYTES. */
  requestTooLarge: "REQUEST_TOO_LARGE",
  /** The request body did not arrive within BODY_TIMEOUT_MS. */
  requestTimeout: "REQUEST_TIMEOUT",
  /** The task record was written but could not be queued. */
  internal: "INTERNAL",
  /** The owner cancelled the task. */
  cancelledByUser: "CANCELLED_BY_USER",
  /** PauseTask, ResumeTask or UpdateTaskPriority on a task that has ended (FAILED_PRECONDITION). */
  taskEnded: "TASK_ENDED",
  /** PauseTask on a task whose denoise is done (FAILED_PRECONDITION). */
  taskEncoding: "TASK_ENCODING",
} as const;

/** Where ErrorInfo reasons come from. */
export const ERROR_DOMAIN = "t2v-mesh";
