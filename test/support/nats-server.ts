import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reapOnExit } from "./child-reaper.js";
import { freePort } from "./free-port.js";

export interface TestNats {
  url: string;
  port: number;
  storeDir: string;
  /** SIGKILL, then start again on the same port and store. */
  restart(): Promise<void>;
  /** SIGKILL and stay down until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** A real nats-server with JetStream file storage on a free port, for one test file. */
export async function startNats(): Promise<TestNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "t2v-nats-"));
  let child: ChildProcess = await launch(port, storeDir);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async restart() {
      await kill(child, "SIGKILL");
      child = await launch(port, storeDir);
    },
    async down() {
      await kill(child, "SIGKILL");
    },
    async up() {
      child = await launch(port, storeDir);
    },
    async stop() {
      await kill(child, "SIGTERM");
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

async function launch(port: number, storeDir: string): Promise<ChildProcess> {
  // The server's own log sits beside its store, for post-mortems of a failed run.
  const child = spawn(
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir, "-l", join(storeDir, "nats-server.log")],
    { stdio: "ignore" },
  );
  reapOnExit(child);
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (await connects(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error("nats-server did not start");
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}
