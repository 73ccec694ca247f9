import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";

/** True when something accepts TCP connections at host:port. */
export function isListening(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await isListening(host, port, 500)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

/**
 * Uses the NATS servers at `url` when one of them answers; otherwise starts a
 * local nats-server with JetStream file storage under `dataDir` (for a single
 * URL only: a list names a cluster, which one local server would not be).
 */
export async function ensureNats(url: string, dataDir: string): Promise<ChildProcess | null> {
  const servers = url.split(",").map((s) => {
    const u = new URL(s.includes("://") ? s : `nats://${s}`);
    return { host: u.hostname || "127.0.0.1", port: Number(u.port || 4222) };
  });
  const answers = await Promise.all(servers.map((s) => isListening(s.host, s.port)));
  if (answers.some((a) => a)) return null;
  if (servers.length > 1) throw new Error(`none of the NATS servers in NATS_URL answers (${url})`);
  const { host, port } = servers[0] ?? { host: "127.0.0.1", port: 4222 };
  const storeDir = join(dataDir, "nats");
  await mkdir(storeDir, { recursive: true });
  const child = spawn("nats-server", ["-a", host, "-p", String(port), "-js", "-sd", storeDir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("error", (err) =>
      reject(new Error(`no NATS at ${url} and nats-server could not start: ${err.message}`)),
    );
    waitForPort(host, port, 10_000).then(resolve, reject);
  });
  return child;
}
