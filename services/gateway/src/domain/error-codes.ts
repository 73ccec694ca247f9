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
  /** The API key's request rate is spent for now. */
  rateLimited: "RATE_LIMITED",
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
