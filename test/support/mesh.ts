import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { setPriority } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Tier, withApiKeyStore } from "@t2v/common";
import { buildReferenceModel } from "@t2v/model";
import { setDefaultTestApiKey } from "./auth.js";
import { freePort } from "./free-port.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export type ServiceName = "gateway" | "scheduler" | "inference" | "encoder";
export const ALL_SERVICES: ServiceName[] = ["scheduler", "inference", "encoder", "gateway"];

/** A running process is named by its service, or by a label for extra instances ("scheduler-2"). */
export interface StartOptions {
  service?: ServiceName;
  env?: Record<string, string>;
  /** Resolve once the process runs, without waiting for its ready line (a standby replica). */
  noWait?: boolean;
}

export interface TestKey {
  key: string;
  tenantId: string;
  webhookSecret: string;
}

export interface TestMesh {
  baseUrl: string;
  port: number;
  natsUrl: string;
  /** The environment the services were started with. */
  env: NodeJS.ProcessEnv;
  /** A standard-tier key of tenant "test", created at start; send it with `connectAuth` / `grpcAuth`. */
  apiKey: string;
  /** Another key (tenant and tier of your choosing). */
  createKey(tenantId: string, tier?: Tier): Promise<TestKey>;
  process(name: string): ChildProcess;
  /** Everything a process printed, for assertions and for failure messages. */
  logs(name: string): string;
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  start(name: string, opts?: StartOptions): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Builds the reference model once (the build is deterministic, so a folder
 * built earlier is the same model) and returns its folder.
 */
export async function referenceModelDir(): Promise<string> {
  const dir = join(REPO_ROOT, ".data", "test-model");
  if (!existsSync(join(dir, "manifest.json"))) {
    await mkdir(dir, { recursive: true });
    await buildReferenceModel(dir);
  }
  return dir;
}

/** The services (by default all four) as separate processes against `natsUrl`, as in production. */
export async function startMesh(
  natsUrl: string,
  extraEnv: Record<string, string> = {},
  services: ServiceName[] = ALL_SERVICES,
): Promise<TestMesh> {
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
  // Every process's output also goes to .data/test-logs/<port>/<name>.log for post-mortems.
  const logDir = join(REPO_ROOT, ".data", "test-logs", String(port));
  await mkdir(logDir, { recursive: true });
  const children = new Map<string, ChildProcess>();
  const output = new Map<string, string>();

  const start = async (name: string, opts: StartOptions = {}): Promise<void> => {
    const service = opts.service ?? (name as ServiceName);
    const child = spawn(process.execPath, [join(REPO_ROOT, "services", service, "dist", "main.js")], {
      env: { ...env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.set(name, child);
    // GPU-style workers yield the CPU to the control plane (NATS, scheduler,
    // gateway) on this small machine, as separate nodes would in production.
    if ((service === "inference" || service === "encoder") && child.pid) setPriority(child.pid, 10);
    const logFile = join(logDir, `${name}.log`);
    const append = (d: Buffer): void => {
      output.set(name, (output.get(name) ?? "") + d.toString());
      appendFileSync(logFile, d);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    if (opts.noWait) return;
    await waitForLog(
      name,
      child,
      () => output.get(name) ?? "",
      /"msg":"(gateway listening|scheduler running|inference worker running|encoder running)"/,
    );
  };

  for (const name of services) await start(name);

  const createKey = (tenantId: string, tier: Tier = "standard"): Promise<TestKey> =>
    withApiKeyStore(natsUrl, async (keys) => {
      const created = await keys.create({ tenantId, tier, name: "e2e" });
      return { key: created.key, tenantId, webhookSecret: created.tenant.webhookSecret };
    });
  const { key: apiKey } = await createKey("test");
  setDefaultTestApiKey(apiKey);

  const kill = async (name: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
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
    natsUrl,
    env,
    apiKey,
    createKey,
    process: (name) => {
      const c = children.get(name);
      if (!c) throw new Error(`${name} not started`);
      return c;
    },
    logs: (name) => output.get(name) ?? "",
    kill,
    start,
    async stop() {
      await Promise.all([...children.keys()].map((n) => kill(n)));
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
