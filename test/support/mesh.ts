import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { setPriority } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { type ApiKeyStore, openApiKeyStore } from "@t2v/common/api-keys";
import { type Bus, type Channels, channels, createNatsBus } from "@t2v/common/channels";
import type { Tier } from "@t2v/common/task";
import { buildReferenceModel } from "@t2v/model";
import { setDefaultTestApiKey } from "./auth.js";
import { reapOnExit } from "./child-reaper.js";
import { type DirectTasks, directTasks } from "./direct-tasks.js";
import { freePort } from "./free-port.js";
import { startNatsClusterForTest, type TestNatsCluster } from "./nats-cluster.js";
import { startNats, type TestNats } from "./nats-server.js";
import { otlpEnv, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.js";
import { readyzProbe, waitReady } from "./readiness.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const CLOSE_TIMEOUT_MS = 2_000;

export type ServiceName = "gateway" | "scheduler" | "inference" | "encoder";
export const ALL_SERVICES: ServiceName[] = ["scheduler", "inference", "encoder", "gateway"];

export interface MeshOptions {
  /** On top of the defaults, for every process. */
  env?: Record<string, string>;
  /** Started in this order (all four by default). */
  services?: ServiceName[];
  /** Every process exports its spans to a receiver of the mesh's own (`TestMesh.spans`). */
  collectSpans?: boolean;
  /**
   * A three-node JetStream cluster instead of one nats-server: NATS_URL lists
   * the three nodes and NATS_REPLICAS is 3 (for the test's own connection too).
   */
  natsCluster?: boolean;
}

/** A running process is named by its service, or by a label for extra instances ("scheduler-2"). */
export interface StartOptions {
  service?: ServiceName;
  env?: Record<string, string>;
  /** Resolve once the process runs, without waiting until it is ready (a standby replica). */
  noWait?: boolean;
}

export interface TestKey {
  key: string;
  tenantId: string;
  webhookSecret: string;
}

export interface TestMesh {
  /** The mesh's own nats-server (kill, restart); on a cluster, all its nodes at once. */
  nats: TestNats;
  /** The nodes one by one, when started with `natsCluster`. */
  cluster?: TestNatsCluster;
  baseUrl: string;
  port: number;
  natsUrl: string;
  /** The environment the services were started with. */
  env: NodeJS.ProcessEnv;
  /** Every span exported so far, when started with `collectSpans`; empty otherwise. */
  spans: ReceivedSpan[];
  /** A standard-tier key of tenant "test", created at start; send it with `connectAuth` / `grpcAuth`. */
  apiKey: string;
  /** Another key (tenant and tier of your choosing). */
  createKey(tenantId: string, tier?: Tier): Promise<TestKey>;
  apiKeys: ApiKeyStore;
  /** The mesh's channels, on a connection of the test's own that outlives NATS restarts. */
  channels: Channels;
  /** Plays the gateway's part on the channels, to drive the scheduler for any tenant and pool. */
  direct: DirectTasks;
  /** `http://127.0.0.1:<METRICS_PORT>` of a running process: /metrics, /healthz, /readyz. */
  metricsUrl(name: string): string;
  process(name: string): ChildProcess;
  /** Everything a process printed (all its runs under this name), for assertions and failure messages. */
  logs(name: string): string;
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a process and waits until its `/readyz` answers 200. */
  start(name: string, opts?: StartOptions): Promise<void>;
  /** Stops every process, then nats-server. */
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

/** A nats-server and the services (by default all four) as separate processes, as in production. */
export async function startMesh(options: MeshOptions = {}): Promise<TestMesh> {
  const otlp = options.collectSpans ? await startOtlpReceiver() : undefined;
  const cluster = options.natsCluster ? await startNatsClusterForTest() : undefined;
  const nats = cluster ? cluster.asOne : await startNats();
  const replicas = cluster ? 3 : 1;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NATS_URL: nats.url,
    NATS_REPLICAS: String(replicas),
    PORT: String(port),
    HOST: "127.0.0.1",
    METRICS_HOST: "127.0.0.1",
    MODEL_DIR: await referenceModelDir(),
    EXECUTION_PROVIDERS: "cpu",
    POOLS: "vip,standard,batch",
    LOG_LEVEL: "info",
    RETRY_BASE_DELAY_MS: "200",
    // Every client of an e2e mesh comes from 127.0.0.1, and several tests send bad keys on purpose:
    // the per-address limit of failed authentications is tested beside the gateway's code.
    AUTH_FAILURE_RATE: "100000/10000",
    ...(otlp ? otlpEnv(otlp) : {}),
    ...options.env,
  };
  // Every process's output also goes to .data/test-logs/<port>/<name>.log for post-mortems.
  const logDir = join(REPO_ROOT, ".data", "test-logs", String(port));
  await mkdir(logDir, { recursive: true });
  const children = new Map<string, ChildProcess>();
  const metricsPorts = new Map<string, number>();
  const output = new Map<string, string>();

  const start = async (name: string, opts: StartOptions = {}): Promise<void> => {
    const service = opts.service ?? (name as ServiceName);
    // Each run gets its own ops port, so readiness is asked of this process and no earlier one.
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [join(REPO_ROOT, "services", service, "dist", "main.js")], {
      // Each service connects as its own NATS user, with only its permissions.
      env: { ...env, ...nats.env(service), ...opts.env, METRICS_PORT: String(metricsPort) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    reapOnExit(child);
    children.set(name, child);
    metricsPorts.set(name, metricsPort);
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
    await waitReady(name, child, readyzProbe(metricsPort), () => output.get(name) ?? "");
  };

  const kill = async (name: string, signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const c = children.get(name);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((r) => {
      c.once("exit", () => r());
      c.kill(signal);
    });
  };

  let bus: Bus | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([...children.keys()].map((n) => kill(n)));
    // Bounded: draining waits for a server, and a failed test may have left nats-server down.
    await Promise.race([bus?.close().catch(() => undefined), delay(CLOSE_TIMEOUT_MS, undefined, { ref: false })]);
    await nats.stop();
    // Last: services flush their spans when they stop.
    await otlp?.close();
  };

  try {
    for (const name of options.services ?? ALL_SERVICES) await start(name);
    // The test's own connection reconnects forever: some tests restart nats-server under it.
    bus = await createNatsBus(
      await connect({
        servers: nats.url.split(","),
        name: "e2e",
        ...nats.admin,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 200,
      }),
      { replicas },
    );
    const ch = channels(bus);
    const apiKeys = await openApiKeyStore(bus);
    const createKey = async (tenantId: string, tier: Tier = "standard"): Promise<TestKey> => {
      const created = await apiKeys.create({ tenantId, tier, name: "e2e" });
      return { key: created.key, tenantId, webhookSecret: created.tenant.webhookSecret };
    };
    const { key: apiKey } = await createKey("test");
    setDefaultTestApiKey(apiKey);

    return {
      nats,
      ...(cluster ? { cluster } : {}),
      baseUrl: `http://127.0.0.1:${port}`,
      port,
      natsUrl: nats.url,
      env,
      spans: otlp?.spans ?? [],
      apiKey,
      createKey,
      apiKeys,
      channels: ch,
      direct: directTasks(ch),
      metricsUrl: (name) => `http://127.0.0.1:${metricsPorts.get(name) ?? 0}`,
      process: (name) => {
        const c = children.get(name);
        if (!c) throw new Error(`${name} not started`);
        return c;
      },
      logs: (name) => output.get(name) ?? "",
      kill,
      start,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
