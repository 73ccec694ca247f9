import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { loadOrCreatePasswords, type NatsPasswords, passwordEnv, writeLocalNatsConfig } from "@t2v/common/nats-access";
import { natsCredentialsFile } from "./local-nats-users.js";

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

/** The nats-server `t2v up` started, and the passwords of its users. */
export interface LocalNats {
  readonly child: ChildProcess;
  readonly passwords: NatsPasswords;
}

/**
 * Uses the NATS servers at `url` when one of them answers (null: the caller passes
 * through whatever credentials the user set); otherwise starts a local nats-server
 * with JetStream file storage under `dataDir` (for a single URL only: a list names a
 * cluster, which one local server would not be), from the project's configuration:
 * a user per service and an admin user, their random passwords made on the first
 * start and kept in `dataDir` (mode 0600).
 */
export async function ensureNats(url: string, dataDir: string): Promise<LocalNats | null> {
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
  const passwords = await loadOrCreatePasswords(natsCredentialsFile(dataDir));
  const conf = await writeLocalNatsConfig(join(dataDir, "nats-config"), { host, port, storeDir });
  const child = spawn("nats-server", ["-c", conf], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...passwordEnv(passwords) },
  });
  await new Promise<void>((resolve, reject) => {
    child.once("error", (err) =>
      reject(new Error(`no NATS at ${url} and nats-server could not start: ${err.message}`)),
    );
    child.once("exit", (code) => reject(new Error(`nats-server exited with ${code} (config ${conf})`)));
    waitForPort(host, port, 10_000).then(resolve, reject);
  });
  return { child, passwords };
}
