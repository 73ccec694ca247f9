import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { NatsSettings } from "@t2v/common/config";
import { ADMIN_USER } from "@t2v/common/nats-access";
import { buildReferenceModel } from "@t2v/model";
import { ensureNats } from "../mesh/ensure-nats.js";
import { asNatsUser, natsCredentialsFile, serviceNatsEnv } from "../mesh/local-nats-users.js";
import { supervise } from "../mesh/supervise.js";
import { generate } from "./generate.js";
import { ensureDevKey } from "./keys-dev.js";

export interface UpOptions {
  port: number;
  /** NATS_URL and the other NATS settings; the services get them through the environment. */
  nats: NatsSettings;
  dataDir: string;
  modelDir: string;
  rawLogs: boolean;
  demo: boolean;
  /** The scheduler's ops port; the other services take the next ones. */
  metricsPortBase: number;
}

const SERVICES = ["scheduler", "inference", "encoder", "gateway"];
const DEMO_PROMPT = "一只金毛犬在雪地里追逐飞盘，慢动作回放";

/**
 * The whole mesh on this machine: NATS (started if none answers), the
 * reference model (built if missing), the four services under a supervisor.
 * Runs in the foreground until SIGINT or SIGTERM.
 */
export async function up(o: UpOptions): Promise<void> {
  const dataDir = resolve(o.dataDir);
  await mkdir(dataDir, { recursive: true });
  const log = (s: string): void => void process.stdout.write(`${s}\n`);

  const local = await ensureNats(o.nats.natsUrl, dataDir);
  const localNats = local?.child;
  if (localNats && o.nats.natsReplicas > 1) {
    localNats.kill("SIGTERM");
    throw new Error(
      `NATS_REPLICAS=${o.nats.natsReplicas} needs a JetStream cluster, but no server answers at ${o.nats.natsUrl} and the one npm start runs is a single server`,
    );
  }
  log(
    localNats
      ? `started nats-server on ${o.nats.natsUrl} (data in ${dataDir}/nats; a user per service, passwords in ${natsCredentialsFile(dataDir)})`
      : `using NATS at ${o.nats.natsUrl}`,
  );
  // Our own server: this process connects as admin, each service as its own user. Someone else's:
  // everyone uses the credentials the environment names (NATS_USER, NATS_CREDS, ...).
  const adminNats = local ? asNatsUser(o.nats, ADMIN_USER, local.passwords[ADMIN_USER]) : o.nats;
  const serviceNats = local ? serviceNatsEnv(local.passwords) : {};

  const modelDir = resolve(o.modelDir);
  if (!existsSync(join(modelDir, "manifest.json"))) {
    log(`building the reference model into ${modelDir} ...`);
    await buildReferenceModel(modelDir);
  }

  const dev = await ensureDevKey(adminNats, dataDir);
  log(
    dev.created
      ? `created a local development API key (tenant "dev"), saved in ${join(dataDir, "dev-api-key")}:\n  export T2V_API_KEY=${dev.key}`
      : `local development API key (tenant "dev") from ${join(dataDir, "dev-api-key")}:\n  export T2V_API_KEY=${dev.key}`,
  );
  process.env.T2V_API_KEY ??= dev.key;

  const env: NodeJS.ProcessEnv = {
    ...withoutNatsAccess(process.env, local !== null),
    NATS_URL: o.nats.natsUrl,
    PORT: String(o.port),
    HOST: "127.0.0.1",
    MODEL_DIR: modelDir,
    POOLS: process.env.POOLS ?? "vip,standard,batch",
  };
  // Metrics and probes, one port each as on separate hosts: METRICS_PORT_BASE + index.
  const metricsPorts = Object.fromEntries(
    SERVICES.map((s, i) => [
      s,
      { METRICS_PORT: String(o.metricsPortBase + i), METRICS_HOST: "127.0.0.1", ...serviceNats[s] },
    ]),
  );
  const mesh = supervise(SERVICES, env, metricsPorts, { write: log, rawLogs: o.rawLogs });
  const server = `http://127.0.0.1:${o.port}`;
  log(`mesh starting; API on ${server} (gRPC, gRPC-Web and Connect), web console at ${server}/`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log("stopping the mesh ...");
    await mesh.stop();
    localNats?.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());

  if (o.demo) {
    await waitReady(server, 120_000);
    const out = join(dataDir, "demo.mp4");
    log(`demo: generating "${DEMO_PROMPT}" (480p, 3 s) ...`);
    try {
      await generate(
        {
          server,
          protocol: "connect",
          apiKey: dev.key,
          prompt: DEMO_PROMPT,
          resolution: "480p",
          duration: 3,
          seed: 42,
          out,
        },
        { isTTY: false, write: (s) => process.stdout.write(`demo: ${s}`) },
      );
      log(
        `demo: done; play ${out}. The mesh keeps running: try 'npx t2v generate "a red fox in the snow"'. Ctrl-C stops it.`,
      );
    } catch (err) {
      log(`demo failed: ${(err as Error).message}`);
    }
  }
}

/** The environment without NATS credentials, when the services get their own users instead. */
function withoutNatsAccess(env: NodeJS.ProcessEnv, drop: boolean): NodeJS.ProcessEnv {
  if (!drop) return env;
  const { NATS_CREDS: _c, NATS_TOKEN: _t, NATS_USER: _u, NATS_PASSWORD: _p, ...rest } = env;
  return rest;
}

async function waitReady(server: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(`${server}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gateway not ready at ${server} after ${timeoutMs} ms`);
}
