import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { passwordEnv, randomPasswords, writeLocalNatsConfig } from "../nats-access/index.js";
import { type TestNatsUsers, testNatsUsers } from "./nats-users.js";
import { connects, freePorts } from "./ports.js";

export interface TestNatsServer extends TestNatsUsers {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A real nats-server with JetStream file storage on a free loopback port, for one test file, run from
 * the project's configuration (its users and permissions): connect as `admin`, or as a service's user.
 */
export async function startNatsServer(): Promise<TestNatsServer> {
  const [port = 0] = await freePorts(1);
  const storeDir = await mkdtemp(join(tmpdir(), "t2v-nats-"));
  const passwords = randomPasswords();
  const conf = await writeLocalNatsConfig(join(storeDir, "conf"), {
    host: "127.0.0.1",
    port,
    storeDir: join(storeDir, "jetstream"),
  });
  const child: ChildProcess = spawn("nats-server", ["-c", conf], {
    stdio: "ignore",
    env: { ...process.env, ...passwordEnv(passwords) },
  });
  // A test file stopped by the runner must not leave its server running on the shared machine.
  const reap = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", reap);
  const stop = async (): Promise<void> => {
    process.off("exit", reap);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    await rm(storeDir, { recursive: true, force: true });
  };
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    if (await connects(port)) return { url: `nats://127.0.0.1:${port}`, stop, ...testNatsUsers(passwords) };
    await delay(50);
  }
  await stop();
  throw new Error("nats-server did not start");
}
