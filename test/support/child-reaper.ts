import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();
let installed = false;

/**
 * Kills `child` if this process ends first: a test file stopped by the
 * runner's timeout (SIGTERM) or by an uncaught error would otherwise leave its
 * nats-server and services running on the shared machine.
 */
export function reapOnExit(child: ChildProcess): void {
  install();
  live.add(child);
  child.once("exit", () => live.delete(child));
}

function killAll(): void {
  for (const c of live) c.kill("SIGKILL");
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once("exit", killAll);
  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(code);
    });
  }
}
