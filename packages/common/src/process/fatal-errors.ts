import type { Logger } from "pino";

/** Exit status of a process that died of an error it did not handle (Node uses 1 too; 70 is EX_SOFTWARE). */
export const FATAL_EXIT_CODE = 70;

export interface FatalErrorPolicyOptions {
  /** How the process ends; a test passes its own. */
  exit?: (code: number) => void;
  /** How long the log gets to reach stdout before the exit. */
  flushMs?: number;
  /** The process to listen on (a test passes an emitter). */
  on?: (event: "uncaughtException" | "unhandledRejection", listener: (err: unknown) => void) => void;
}

/**
 * The one policy of every service for errors nothing handled:
 *
 * - `uncaughtException`: logged at fatal level with its stack, the log
 *   flushed, and the process exits non-zero. Its state may be corrupt (a
 *   half-run callback, a lock never released); its supervisor (`npm start`'s
 *   process runner, Kubernetes) restarts it, and the job it held comes back to
 *   another worker after its ack wait.
 * - `unhandledRejection`: the same, at error level. That is Node's own
 *   default since 15 (`--unhandled-rejections=throw`); we only make it logged
 *   as one JSON line with the service name. A rejection nobody handled is a
 *   bug: every expected failure (NATS down, a publish timing out, an engine
 *   lost) is caught and retried or reported where it happens, so none may
 *   reach here; keeping the process alive would hide those bugs and leave
 *   work half done.
 *
 * Installed once, first thing in each service's main.ts.
 */
export function installFatalErrorPolicy(log: Logger, service: string, opts: FatalErrorPolicyOptions = {}): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const flushMs = opts.flushMs ?? 100;
  const on = opts.on ?? ((event, listener) => process.on(event, listener));
  let exiting = false;
  const die = (level: "fatal" | "error", kind: string, err: unknown): void => {
    log[level]({ err, service, kind }, `${kind}: exiting`);
    if (exiting) return;
    exiting = true;
    if (opts.exit === undefined) process.exitCode = FATAL_EXIT_CODE;
    log.flush?.();
    // A moment for the log line to reach a pipe; the timer also keeps an otherwise idle process until then.
    if (flushMs > 0) setTimeout(() => exit(FATAL_EXIT_CODE), flushMs);
    else exit(FATAL_EXIT_CODE);
  };
  on("uncaughtException", (err) => die("fatal", "uncaught exception", err));
  on("unhandledRejection", (reason) => die("error", "unhandled rejection", reason));
}
