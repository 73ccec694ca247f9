import type { ChildProcess } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";

/** True once the process takes work. */
export type ReadinessProbe = () => Promise<boolean>;

const START_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
const PROBE_TIMEOUT_MS = 1_000;

/** The `/readyz` probe every service's telemetry serves on METRICS_PORT: 200 once it takes work. */
export function readyzProbe(metricsPort: number): ReadinessProbe {
  return async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`, {
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false; // not listening yet
    }
  };
}

/**
 * Resolves once `probe` says ready; rejects, with everything the process
 * printed, when it exits first or is not ready within a minute.
 */
export async function waitReady(
  name: string,
  child: ChildProcess,
  probe: ReadinessProbe,
  output: () => string,
): Promise<void> {
  let exited: string | undefined;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    exited = `${name} exited (${code ?? signal}) at start:\n${output()}`;
  };
  if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
  child.once("exit", onExit);
  try {
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(exited);
      if (await probe()) return;
      if (Date.now() > until) throw new Error(`${name} not ready in ${START_TIMEOUT_MS / 1000} s:\n${output()}`);
      await delay(POLL_MS);
    }
  } finally {
    child.off("exit", onExit);
  }
}
