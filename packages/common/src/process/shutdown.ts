import type { Logger } from "pino";

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits. A second signal, or the
 * grace period running out, exits at once: Kubernetes kills us anyway.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>, graceMs = 25_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      log.error("shutdown grace period over; exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}

// This module is the `@t2v/common/process` entry: how a service process lives and dies.
export {
  createEngineSupervisor,
  type EngineSupervisor,
  type EngineSupervisorOptions,
  isEngineLost,
} from "./engine-supervisor.js";
export { FATAL_EXIT_CODE, type FatalErrorPolicyOptions, installFatalErrorPolicy } from "./fatal-errors.js";
export { type LinkedSignal, linkSignals } from "./linked-signal.js";
export { createOutbox, type Outbox, type OutboxOptions } from "./outbox.js";
export { RETRY_DEFAULTS, type RetryOptions, retryWithBackoff } from "./retry.js";
