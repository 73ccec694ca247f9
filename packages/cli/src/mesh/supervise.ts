import { type ChildProcess, spawn } from "node:child_process";
import { setPriority } from "node:os";
import { createInterface } from "node:readline";
import { formatLogLine } from "./format-log-line.js";
import { serviceEntry } from "./paths.js";

export interface Supervised {
  /** SIGTERM to every service, SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Runs each service as its own process and restarts one that dies, with
 * growing backoff, as Kubernetes would. Logs are made readable unless
 * `rawLogs` is set.
 */
export function supervise(
  services: string[],
  env: NodeJS.ProcessEnv,
  perService: Record<string, NodeJS.ProcessEnv>,
  out: { write(line: string): void; rawLogs: boolean },
): Supervised {
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const start = (service: string, failures: number): void => {
    const startedAt = Date.now();
    const child = spawn(process.execPath, [serviceEntry(service)], {
      env: { ...env, ...perService[service] },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.set(service, child);
    // On one machine the workers yield the CPU to NATS, the scheduler and the
    // gateway, so the API stays responsive while a clip renders.
    if ((service === "inference" || service === "encoder") && child.pid) setPriority(child.pid, 10);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) =>
        out.write(out.rawLogs ? line : formatLogLine(service, line)),
      );
    }
    child.on("exit", (code, signal) => {
      children.delete(service);
      if (stopping) return;
      // A service that ran a while before dying gets a fresh backoff.
      const n = Date.now() - startedAt > 60_000 ? 0 : failures + 1;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** n);
      out.write(`supervisor: ${service} exited (${code ?? signal}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!stopping) start(service, n);
      }, delay);
    });
  };

  for (const s of services) start(s, 0);

  return {
    async stop(graceMs = 20_000) {
      stopping = true;
      const exits = [...children.values()].map(
        (c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once("exit", () => resolve()))),
      );
      for (const c of children.values()) c.kill("SIGTERM");
      const timer = setTimeout(() => {
        for (const c of children.values()) c.kill("SIGKILL");
      }, graceMs);
      await Promise.all(exits);
      clearTimeout(timer);
    },
  };
}
