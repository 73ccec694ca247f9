import { Code, ConnectError } from "@connectrpc/connect";

/** The `t2v` exit codes (packages/cli/README.md lists them): scripts branch on these. */
export const ExitCode = {
  ok: 0,
  /** Anything else: the server is unreachable or unavailable, a file cannot be written, a bug. */
  error: 1,
  /** The command line is wrong (unknown option, missing argument). */
  usage: 2,
  /** The API key is missing, unknown or revoked. */
  auth: 3,
  /** The server refused the request: invalid argument, unknown task, idempotency conflict, rate or queue limit. */
  rejected: 4,
  /** The task failed or was cancelled (batch: at least one line did not complete). */
  taskFailed: 5,
  /** --timeout passed before the task finished (the task goes on). */
  timeout: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A command line mistake: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

const REJECTED = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.ResourceExhausted,
]);

export function exitCodeOf(err: unknown): ExitCodeValue {
  if (err instanceof UsageError) return ExitCode.usage;
  if (!(err instanceof ConnectError)) return ExitCode.error;
  if (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied) return ExitCode.auth;
  if (err.code === Code.DeadlineExceeded) return ExitCode.timeout;
  return REJECTED.has(err.code) ? ExitCode.rejected : ExitCode.error;
}
