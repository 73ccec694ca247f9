import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { setPriority, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { type ApiKeyStore, openApiKeyStore } from "@t2v/common/api-keys";
import { type Bus, type Channels, channels, createNatsBus } from "@t2v/common/channels";
import { ADMIN_USER, passwordEnv, randomPasswords, writeLocalNatsConfig } from "@t2v/common/nats-access";
import { buildReferenceModel } from "@t2v/model";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export type ServiceName = "gateway" | "scheduler" | "inference" | "encoder";

const READY_TIMEOUT_MS = 90_000;

/** Node flags for every service, e.g. BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them. */
const SERVICE_NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");

/** A nats-server and service processes started the way the e2e tests start them (test/support/mesh.ts). */
export interface BenchMesh {
  baseUrl: string;
  natsUrl: string;
  channels: Channels;
  bus: Bus;
  apiKeys: ApiKeyStore;
  /** A key of tenant "bench" on the given tier. */
  apiKey: string;
  /** A service's pid, or "nats" for nats-server's. */
  pid(name: string): number;
  metricsUrl(name: string): string;
  /** nats-server's monitoring endpoint (/connz). */
  natsMonitorUrl: string;
  start(name: string, service?: ServiceName, env?: Record<string, string>): Promise<void>;
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** The last 20,000 characters a service printed (its JSON log lines). */
  output(name: string): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => ok(typeof a === "object" && a ? a.port : 0));
    });
  });
}

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

function stopChild(c: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    c.once("exit", () => r());
    c.kill(signal);
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      r(true);
    });
    s.once("error", () => r(false));
  });
}

async function ready(metricsPort: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function referenceModelDir(): Promise<string> {
  const dir = join(REPO_ROOT, ".data", "test-model");
  if (!existsSync(join(dir, "manifest.json"))) {
    await mkdir(dir, { recursive: true });
    await buildReferenceModel(dir);
  }
  return dir;
}

/** Resident set size of a process, bytes (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

export async function startMesh(services: ServiceName[], env: Record<string, string> = {}): Promise<BenchMesh> {
  const natsPort = await freePort();
  const monitorPort = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), "t2v-bench-nats-"));
  // The project's configuration, as in production: each service as its own user, the bench as admin.
  const passwords = randomPasswords();
  const conf = await writeLocalNatsConfig(join(storeDir, "conf"), {
    host: "127.0.0.1",
    port: natsPort,
    storeDir,
    monitorPort,
  });
  const nats = track(
    spawn("nats-server", ["-c", conf], { stdio: "ignore", env: { ...process.env, ...passwordEnv(passwords) } }),
  );
  for (let i = 0; !(await portOpen(natsPort)); i++) {
    if (i > 200) throw new Error("nats-server did not start");
    await delay(50);
  }
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const port = await freePort();
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    NATS_URL: natsUrl,
    PORT: String(port),
    HOST: "127.0.0.1",
    METRICS_HOST: "127.0.0.1",
    MODEL_DIR: await referenceModelDir(),
    EXECUTION_PROVIDERS: "cpu",
    POOLS: "vip,standard,batch",
    LOG_LEVEL: "warn",
    ...env,
  };
  const children = new Map<string, ChildProcess>();
  const metrics = new Map<string, number>();
  const output = new Map<string, string>();

  const start = async (name: string, service = name as ServiceName, extra: Record<string, string> = {}) => {
    const metricsPort = await freePort();
    const child = track(
      spawn(process.execPath, [...SERVICE_NODE_ARGS, join(REPO_ROOT, "services", service, "dist", "main.js")], {
        env: {
          ...baseEnv,
          NATS_USER: service,
          NATS_PASSWORD: passwords[service],
          ...extra,
          METRICS_PORT: String(metricsPort),
        },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    children.set(name, child);
    metrics.set(name, metricsPort);
    // Workers yield the CPU to the control plane, as separate GPU nodes would (as the e2e mesh does).
    if ((service === "inference" || service === "encoder") && child.pid) setPriority(child.pid, 10);
    const keep = (d: Buffer) => output.set(name, ((output.get(name) ?? "") + d.toString()).slice(-20_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const until = Date.now() + READY_TIMEOUT_MS;
    while (!(await ready(metricsPort))) {
      if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${output.get(name) ?? ""}`);
      if (Date.now() > until) throw new Error(`${name} not ready:\n${output.get(name) ?? ""}`);
      await delay(100);
    }
  };

  let bus: Bus | undefined;
  const stop = async () => {
    await Promise.all([...children.values()].map((c) => stopChild(c)));
    await Promise.race([bus?.close().catch(() => undefined), delay(2_000)]);
    await stopChild(nats);
    await rm(storeDir, { recursive: true, force: true });
  };
  try {
    for (const s of services) await start(s);
    bus = await createNatsBus(
      await connect({
        servers: natsUrl,
        name: "bench",
        user: ADMIN_USER,
        pass: passwords[ADMIN_USER],
        maxReconnectAttempts: -1,
      }),
    );
    const apiKeys = await openApiKeyStore(bus);
    const created = await apiKeys.create({ tenantId: "bench", tier: "standard", name: "bench" });
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      natsUrl,
      channels: channels(bus),
      bus,
      apiKeys,
      apiKey: created.key,
      pid: (name) => (name === "nats" ? (nats.pid ?? 0) : (children.get(name)?.pid ?? 0)),
      metricsUrl: (name) => `http://127.0.0.1:${metrics.get(name) ?? 0}`,
      natsMonitorUrl: `http://127.0.0.1:${monitorPort}`,
      start,
      kill: (name, signal) => stopChild(children.get(name), signal),
      output: (name) => output.get(name) ?? "",
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** CPU time (user + system) a process has used so far, ms (Linux, clock ticks of 10 ms). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

/** Messages each NATS user's connections sent to nats-server and got from it, so far. */
export interface NatsTraffic {
  sent: Record<string, number>;
  received: Record<string, number>;
}

/** Reads nats-server's /connz, by authenticated user. */
export async function natsTraffic(monitorUrl: string): Promise<NatsTraffic> {
  const connz: unknown = await (await fetch(`${monitorUrl}/connz?auth=true&limit=4096`)).json();
  const sent: Record<string, number> = {};
  const received: Record<string, number> = {};
  const conns = (connz as { connections?: { authorized_user?: string; in_msgs: number; out_msgs: number }[] })
    .connections;
  for (const c of conns ?? []) {
    const user = c.authorized_user ?? "";
    // nats-server counts from its side: "in" is what the client sent.
    sent[user] = (sent[user] ?? 0) + c.in_msgs;
    received[user] = (received[user] ?? 0) + c.out_msgs;
  }
  return { sent, received };
}

/**
 * Sum of a Prometheus metric's samples (e.g. `t2v_denoise_seconds_sum`) on a process's /metrics; with
 * `label` (e.g. `t2v_stage="admit"`), of the samples carrying it.
 */
export async function metricSum(url: string, name: string, label?: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!(line.startsWith(`${name} `) || line.startsWith(`${name}{`))) continue;
    if (label === undefined || line.includes(label)) sum += Number(line.split(" ").at(-1));
  }
  return sum;
}
