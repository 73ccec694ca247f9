import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildReferenceModel } from "@t2v/model";
import { freePort } from "./free-port.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export type ServiceName = "gateway" | "scheduler" | "inference" | "encoder";
export const ALL_SERVICES: ServiceName[] = ["scheduler", "inference", "encoder", "gateway"];

export interface TestMesh {
  baseUrl: string;
  port: number;
  process(name: ServiceName): ChildProcess;
  /** Everything a service printed, for assertions and for failure messages. */
  logs(name: ServiceName): string;
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<void>;
  start(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Builds the reference model once per run (cached under the OS temp folder,
 * keyed by nothing but the build being deterministic) and returns its folder.
 */
export async function referenceModelDir(): Promise<string> {
  const dir = join(REPO_ROOT, ".data", "test-model");
  if (!existsSync(join(dir, "manifest.json"))) {
    await mkdir(dir, { recursive: true });
    await buildReferenceModel(dir);
  }
  return dir;
}

/** The four services as separate processes against `natsUrl`, as in production. */
export async function startMesh(natsUrl: string, extraEnv: Record<string, string> = {}): Promise<TestMesh> {
  const port = await freePort();
  const modelDir = await referenceModelDir();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NATS_URL: natsUrl,
    PORT: String(port),
    HOST: "127.0.0.1",
    MODEL_DIR: modelDir,
    EXECUTION_PROVIDERS: "cpu",
    POOLS: "vip,standard,batch",
    LOG_LEVEL: "info",
    RETRY_BASE_DELAY_MS: "200",
    ...extraEnv,
  };
  const children = new Map<ServiceName, ChildProcess>();
  const output = new Map<ServiceName, string>();

  const start = async (name: ServiceName): Promise<void> => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "services", name, "dist", "main.js")], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.set(name, child);
    const append = (d: Buffer): void => void output.set(name, (output.get(name) ?? "") + d.toString());
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    await waitForLog(
      name,
      child,
      () => output.get(name) ?? "",
      /"msg":"(gateway listening|scheduler running|inference worker running|encoder running)"/,
    );
  };

  for (const name of ALL_SERVICES) await start(name);

  const kill = async (name: ServiceName, signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const c = children.get(name);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once("exit", () => r());
      c.kill(signal);
    });
  };

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    process: (name) => {
      const c = children.get(name);
      if (!c) throw new Error(`${name} not started`);
      return c;
    },
    logs: (name) => output.get(name) ?? "",
    kill,
    start,
    async stop() {
      await Promise.all(ALL_SERVICES.map((n) => kill(n)));
    },
  };
}

function waitForLog(name: string, child: ChildProcess, text: () => string, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${name} did not start in 60 s:\n${text()}`)), 60_000);
    const check = (): void => {
      if (pattern.test(text())) done();
    };
    const onExit = (code: number | null): void => done(new Error(`${name} exited with ${code} at start:\n${text()}`));
    function done(err?: Error): void {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.stderr?.off("data", check);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve();
    }
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", onExit);
    check();
  });
}
