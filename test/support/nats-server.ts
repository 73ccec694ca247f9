import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsPasswords, passwordEnv, randomPasswords, writeLocalNatsConfig } from "@t2v/common/nats-access";
import { type TestNatsUsers, testNatsUsers } from "@t2v/common/testing/nats-users";
import { reapOnExit } from "./child-reaper.js";
import { freePort } from "./free-port.js";

export interface TestNats extends TestNatsUsers {
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

/**
 * A real nats-server with JetStream file storage on a free port, for one test file, run from the
 * project's configuration: each service connects as its own user, the test as `admin`.
 */
export async function startNats(): Promise<TestNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "t2v-nats-"));
  const passwords = randomPasswords();
  const conf = await writeLocalNatsConfig(join(storeDir, "conf"), {
    host: "127.0.0.1",
    port,
    storeDir,
    // The server's own log sits beside its store, for post-mortems of a failed run.
    logFile: join(storeDir, "nats-server.log"),
  });
  let child: ChildProcess = await launch(conf, port, passwords);
  return {
    ...testNatsUsers(passwords),
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async restart() {
      await kill(child, "SIGKILL");
      child = await launch(conf, port, passwords);
    },
    async down() {
      await kill(child, "SIGKILL");
    },
    async up() {
      child = await launch(conf, port, passwords);
    },
    async stop() {
      await kill(child, "SIGTERM");
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

async function launch(conf: string, port: number, passwords: NatsPasswords): Promise<ChildProcess> {
  const child = spawn("nats-server", ["-c", conf], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...passwordEnv(passwords) },
  });
  reapOnExit(child);
  // What it says before its log file is open (a configuration it cannot parse), for the error below.
  let said = "";
  child.stderr?.on("data", (b: Buffer) => {
    said = (said + b.toString()).slice(-2_000);
  });
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    if (await connects(port)) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`nats-server did not start${said ? `: ${said.trim()}` : ""}`);
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
