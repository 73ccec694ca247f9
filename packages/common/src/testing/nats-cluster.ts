import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { type NatsPasswords, passwordEnv, randomPasswords, writeLocalNatsConfig } from "../nats-access/index.js";
import { type TestNatsUsers, testNatsUsers } from "./nats-users.js";
import { connects, freePorts } from "./ports.js";

/** One node of a test cluster. */
export interface ClusterNode {
  name: string;
  /** Client port on 127.0.0.1. */
  port: number;
  url: string;
  /** Monitoring port (`/jsz`, `/connz`). */
  monitorPort: number;
  /** Route port on 127.0.0.1, where the other servers of the cluster connect. */
  routePort: number;
  storeDir: string;
  running(): boolean;
}

export interface TestNatsCluster extends TestNatsUsers {
  /** Every node's client URL, comma-separated: what NATS_URL gets. */
  url: string;
  nodes: readonly ClusterNode[];
  root: string;
  /** Waits until the JetStream meta group has a leader all running nodes agree on; returns its name. */
  waitMetaLeader(timeoutMs?: number): Promise<string>;
  /** The node with this server name. */
  node(name: string): ClusterNode;
  /** SIGKILL one node; it stays down until `start`. */
  kill(name: string): Promise<void>;
  /** Starts a killed node again on its ports and store. */
  start(name: string): Promise<void>;
  /** Connections to a node by client name (from its `/connz`). */
  connections(name: string): Promise<string[]>;
  /** Stream name -> the node leading it, as a running node sees it (from its `/jsz`). */
  streamLeaders(): Promise<Map<string, string>>;
  /** Stops every node and removes the stores. */
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Nodes (3 by default). */
  size?: number;
  /** Called with every node process, e.g. to kill it if the test process dies first. */
  onSpawn?: (child: ChildProcess) => void;
  /** The users' passwords (fresh random ones by default). */
  passwords?: NatsPasswords;
}

const START_TIMEOUT_MS = 15_000;

/** The installed nats-server's version, e.g. "2.9.10". */
export function natsServerVersion(): string {
  const out = execFileSync("nats-server", ["--version"], { encoding: "utf8" });
  return /v?(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? out.trim();
}

/**
 * A JetStream cluster of real nats-server processes (2.9+), all on loopback:
 * free client, route and monitoring ports, one store folder per node under a
 * temp folder, each node's log beside its store for post-mortems. Every node
 * runs from the project's configuration (its users and permissions).
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<TestNatsCluster> {
  const size = opts.size ?? 3;
  const root = await mkdtemp(join(tmpdir(), "t2v-nats-cluster-"));
  const ports = await freePorts(size * 3);
  const clusterName = `t2v-${process.pid}`;
  const nodes = Array.from({ length: size }, (_, i) => ({
    name: `n${i + 1}`,
    port: ports[i * 3] ?? 0,
    routePort: ports[i * 3 + 1] ?? 0,
    monitorPort: ports[i * 3 + 2] ?? 0,
    storeDir: join(root, `n${i + 1}`),
  }));
  const routes = nodes.map((n) => `nats://127.0.0.1:${n.routePort}`);
  const children = new Map<string, ChildProcess>();
  const passwords = opts.passwords ?? randomPasswords();

  const launch = async (n: (typeof nodes)[number]): Promise<void> => {
    await mkdir(n.storeDir, { recursive: true });
    const conf = await writeLocalNatsConfig(join(n.storeDir, "conf"), {
      serverName: n.name,
      host: "127.0.0.1",
      port: n.port,
      monitorPort: n.monitorPort,
      storeDir: n.storeDir,
      logFile: join(n.storeDir, "nats-server.log"),
      cluster: { name: clusterName, port: n.routePort, routes, routePassword: passwords.route },
    });
    const child = spawn("nats-server", ["-c", conf], {
      // stderr: what nats-server says before its log file is open (a refused configuration, a port in use).
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...passwordEnv(passwords) },
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2_000);
    });
    opts.onSpawn?.(child);
    children.set(n.name, child);
    const until = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`nats-server ${n.name} exited with ${child.exitCode}: ${stderr}`);
      if (await connects(n.port)) return;
      await delay(50);
    }
    throw new Error(`nats-server ${n.name} did not start`);
  };
  const running = (name: string): boolean => {
    const c = children.get(name);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  };
  const find = (name: string) => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  };
  const kill = async (name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    const c = children.get(name);
    if (!c || !running(name)) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(signal);
    });
  };
  /** The meta leader this node knows of; undefined while there is none or the node does not answer. */
  const metaLeaderSeenBy = async (monitorPort: number): Promise<string | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${monitorPort}/jsz`, { signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as { meta_cluster?: { leader?: string } };
      return body.meta_cluster?.leader || undefined;
    } catch {
      return undefined;
    }
  };

  const cluster: TestNatsCluster = {
    ...testNatsUsers(passwords),
    url: nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(","),
    root,
    nodes: nodes.map((n) => ({
      name: n.name,
      port: n.port,
      url: `nats://127.0.0.1:${n.port}`,
      monitorPort: n.monitorPort,
      routePort: n.routePort,
      storeDir: n.storeDir,
      running: () => running(n.name),
    })),
    async waitMetaLeader(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      let seen: (string | undefined)[] = [];
      while (Date.now() < until) {
        const up = nodes.filter((n) => running(n.name));
        seen = await Promise.all(up.map((n) => metaLeaderSeenBy(n.monitorPort)));
        const leader = seen[0];
        if (leader !== undefined && seen.every((l) => l === leader) && running(leader)) return leader;
        await delay(100);
      }
      throw new Error(`no JetStream meta leader after ${timeoutMs} ms (nodes say: ${seen.join(", ")})`);
    },
    node(name) {
      const n = cluster.nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n;
    },
    kill: (name) => kill(name),
    async start(name) {
      if (!running(name)) await launch(find(name));
    },
    async connections(name) {
      const res = await fetch(`http://127.0.0.1:${find(name).monitorPort}/connz?limit=1024`, {
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await res.json()) as { connections?: { name?: string }[] };
      return (body.connections ?? []).map((c) => c.name ?? "");
    },
    async streamLeaders() {
      const asked = nodes.find((n) => running(n.name));
      if (!asked) throw new Error("no node is running");
      const res = await fetch(`http://127.0.0.1:${asked.monitorPort}/jsz?accounts=true&streams=true`, {
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await res.json()) as {
        account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
      };
      const leaders = new Map<string, string>();
      for (const a of body.account_details ?? []) {
        for (const st of a.stream_detail ?? []) if (st.cluster?.leader) leaders.set(st.name, st.cluster.leader);
      }
      return leaders;
    },
    async stop() {
      await Promise.all(nodes.map((n) => kill(n.name, "SIGTERM")));
      await rm(root, { recursive: true, force: true });
    },
  };

  try {
    // All at once: each node waits for the others' routes before JetStream elects a meta leader.
    await Promise.all(nodes.map(launch));
    await cluster.waitMetaLeader();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
