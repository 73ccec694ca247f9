import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { startNatsCluster, type TestNatsCluster } from "../testing/nats-cluster.js";
import { freePorts } from "../testing/ports.js";
import { writeLocalNatsConfig } from "./local-nats-files.js";
import { type NatsPasswords, passwordEnv } from "./nats-users.js";

/** How many routes a node has (its `/routez`). */
async function routesOf(monitorPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/routez`, { signal: AbortSignal.timeout(2_000) });
  return ((await res.json()) as { num_routes: number }).num_routes;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await delay(100);
  }
  assert.fail(`not within ${timeoutMs} ms: ${what}`);
}

describe("cluster routes (real nats-servers from the project's configuration)", () => {
  let cluster: TestNatsCluster;
  let passwords: NatsPasswords;
  const strangers: ChildProcess[] = [];

  before(async () => {
    cluster = await startNatsCluster();
    await cluster.waitMetaLeader();
    passwords = { ...cluster.passwords };
  });
  after(async () => {
    for (const s of strangers) s.kill("SIGKILL");
    await cluster?.stop();
  });

  /** A fourth server routed to the first node, presenting `routePassword`; its log file. */
  async function stranger(name: string, routePassword: string): Promise<string> {
    const first = cluster.nodes[0];
    assert.ok(first);
    const [port = 0, routePort = 0] = await freePorts(2);
    const dir = join(cluster.root, name);
    const logFile = join(dir, "nats-server.log");
    const conf = await writeLocalNatsConfig(join(dir, "conf"), {
      serverName: name,
      host: "127.0.0.1",
      port,
      storeDir: dir,
      logFile,
      cluster: {
        name: `t2v-${process.pid}`,
        port: routePort,
        routes: [`nats://127.0.0.1:${first.routePort}`],
        routePassword,
      },
    });
    const child = spawn("nats-server", ["-c", conf], {
      stdio: "ignore",
      env: { ...process.env, ...passwordEnv({ ...passwords, route: routePassword }) },
    });
    strangers.push(child);
    return logFile;
  }

  it("refuses a server without the route password: it cannot join the cluster", async () => {
    const first = cluster.nodes[0];
    assert.ok(first);
    assert.equal(await routesOf(first.monitorPort), 2, "the two other members");
    const log = await stranger("stranger", "pwrongwrongwrongwrongwrong");
    await until("the stranger is told its route is refused", async () => {
      const text = await readFile(log, "utf8").catch(() => "");
      return /Authorization Violation/.test(text);
    });
    assert.equal(await routesOf(first.monitorPort), 2, "still only the members");
  });

  it("lets a server with the route password join (the check above is the password's doing)", async () => {
    const first = cluster.nodes[0];
    assert.ok(first);
    await stranger("member", passwords.route);
    await until("the new member's route is up", async () => (await routesOf(first.monitorPort)) === 3);
  });
});
