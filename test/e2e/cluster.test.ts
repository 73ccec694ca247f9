import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { TaskStatus, type VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { FAULT_TIMINGS } from "../support/fault-timings.js";
import { connectClient } from "../support/gateway-clients.js";
import { ALL_SERVICES } from "../support/mesh.js";
import { useMesh } from "../support/use-mesh.js";
import { waitUntil } from "../support/wait.js";

// The whole mesh on a three-node JetStream cluster (NATS_URL lists the three
// nodes, NATS_REPLICAS=3): one node is killed while tasks run, and every
// accepted task still completes exactly once.
const mesh = useMesh({
  natsCluster: true,
  env: FAULT_TIMINGS,
});

const DAY_MS = 86_400_000;
let seed = 100;
/** A short clip with a seed of its own, so no two requests share a cached result. */
const clip = (prompt: string) => ({
  prompt,
  resolution: "480p",
  duration: 3,
  frameRate: 16,
  seed: seed++,
  // A retried submit whose first answer was lost is the same task, not a second one.
  idempotencyKey: `cluster-${process.pid}-${prompt}`,
});

/**
 * Submits through the gateway, trying again while the cluster elects new
 * leaders; a try that fails must fail as UNAVAILABLE (worth a retry).
 * Returns the id and the tries it took.
 */
async function submit(api: Client<typeof VideoService>, prompt: string): Promise<{ taskId: string; tries: number }> {
  const request = clip(prompt);
  const until = Date.now() + 60_000;
  for (let tries = 1; ; tries++) {
    try {
      return { taskId: (await api.createTask(request)).taskId, tries };
    } catch (err) {
      const code = ConnectError.from(err).code;
      assert.equal(code, Code.Unavailable, `submit "${prompt}" failed as ${Code[code]}: ${String(err)}`);
      if (Date.now() > until) throw new Error(`submit "${prompt}" not accepted in 60 s (${tries} tries)`);
      await delay(250);
    }
  }
}

/** How many times the inference worker denoised a task. */
const denoisedCount = (taskId: string): number =>
  mesh
    .logs("inference")
    .split("\n")
    .filter((l) => l.includes(taskId) && l.includes('"msg":"denoised"')).length;

/** Which node each mesh service is connected to. */
async function serviceConnections(): Promise<Map<string, string[]>> {
  const cluster = mesh.cluster;
  assert.ok(cluster);
  const out = new Map<string, string[]>();
  for (const node of cluster.nodes) {
    if (!node.running()) continue;
    const names = await cluster.connections(node.name);
    out.set(
      node.name,
      names.filter((n) => ALL_SERVICES.some((s) => n === s || n.startsWith(`${s}-`))),
    );
  }
  return out;
}

/** Each task completed, was denoised once and has one usage record. */
async function completedOnce(ids: string[]): Promise<void> {
  for (const id of ids) {
    const r = await mesh.direct.waitForEnd(id, 300_000);
    assert.equal(r.task?.status, TaskStatus.COMPLETED, `task ${id}: ${r.task?.errorMessage}`);
  }
  const usage = await mesh.channels.usage.list("test", new Date(Date.now() - DAY_MS), new Date(Date.now() + DAY_MS));
  for (const id of ids) {
    assert.equal(denoisedCount(id), 1, `task ${id} denoised once`);
    assert.equal(usage.filter((u) => u.taskId === id).length, 1, `task ${id} billed once`);
  }
}

/** Kills a node; should the test fail before it starts the node again, the next test still finds three. */
async function killNode(t: TestContext, name: string): Promise<void> {
  const cluster = mesh.cluster;
  assert.ok(cluster, "the mesh runs on a cluster");
  t.after(async () => {
    if (cluster.nodes.some((n) => n.name === name && !n.running())) {
      await cluster.start(name);
      await cluster.waitMetaLeader();
    }
  });
  await cluster.kill(name);
}

const TASK_RECORDS_STREAM = "KV_t2v_tasks";

describe("on a three-node JetStream cluster", () => {
  it("completes every accepted task once when the node the services use is killed, and accepts work during and after", async (t) => {
    const cluster = mesh.cluster;
    assert.ok(cluster, "the mesh runs on a cluster");
    const api = connectClient(mesh.baseUrl, mesh.apiKey);

    const before: string[] = [];
    for (let i = 0; i < 4; i++) before.push((await submit(api, `cluster before kill ${i}`)).taskId);
    // Mid-run: the first task is being denoised.
    await mesh.direct.waitFor(before[0] ?? "", (r) => r.task?.status === TaskStatus.PROCESSING, 120_000);

    // The node most of the services are connected to.
    const conns = await serviceConnections();
    const [victim, victimConns] = [...conns.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ["", []];
    assert.ok(victimConns.length >= 1, "the killed node serves at least one service");
    const leaders = await cluster.streamLeaders();
    const led = [...leaders].filter(([, l]) => l === victim).map(([s]) => s);
    const metaLeader = await cluster.waitMetaLeader();

    const killedAt = Date.now();
    await killNode(t, victim);

    // Every service moves to a surviving node.
    await waitUntil(
      serviceConnections,
      (c) => [...c.values()].reduce((n, names) => n + names.length, 0) >= ALL_SERVICES.length,
      { timeoutMs: 60_000, what: "every service reconnected to a surviving node" },
    );
    const reconnectedMs = Date.now() - killedAt;
    const newMeta = await cluster.waitMetaLeader();

    // Submits go on with the node down.
    const first = await submit(api, "cluster during outage 0");
    const acceptedMs = Date.now() - killedAt;
    const during = [first.taskId];
    for (let i = 1; i < 3; i++) during.push((await submit(api, `cluster during outage ${i}`)).taskId);

    const all = [...before, ...during];
    await completedOnce(all);
    const allDoneMs = Date.now() - killedAt;

    // The node comes back and new work completes.
    await cluster.start(victim);
    await cluster.waitMetaLeader();
    await completedOnce([(await submit(api, "cluster after restart")).taskId]);
    for (const name of ALL_SERVICES) assert.equal(mesh.process(name).exitCode, null, `${name} still runs`);

    t.diagnostic(
      `killed ${victim} (${victimConns.join(", ")}; leader of ${led.length} of ${leaders.size} streams; meta leader was ${metaLeader}, now ${newMeta})`,
    );
    t.diagnostic(
      `all services on surviving nodes after ${reconnectedMs} ms; first submit accepted after ${acceptedMs} ms (${first.tries} tries); ${all.length} tasks completed ${allDoneMs} ms after the kill`,
    );
  });

  it("completes every accepted task once when the leader of the task records is killed", async (t) => {
    const cluster = mesh.cluster;
    assert.ok(cluster, "the mesh runs on a cluster");
    const api = connectClient(mesh.baseUrl, mesh.apiKey);
    await cluster.waitMetaLeader();

    const before: string[] = [];
    for (let i = 0; i < 2; i++) before.push((await submit(api, `leader kill before ${i}`)).taskId);
    await mesh.direct.waitFor(before[0] ?? "", (r) => r.task?.status === TaskStatus.PROCESSING, 120_000);

    const leaders = await cluster.streamLeaders();
    const victim = leaders.get(TASK_RECORDS_STREAM);
    assert.ok(victim, `${TASK_RECORDS_STREAM} has a leader`);
    const led = [...leaders].filter(([, l]) => l === victim).length;
    const victimConns = (await serviceConnections()).get(victim) ?? [];

    const killedAt = Date.now();
    await killNode(t, victim);
    await waitUntil(
      () => cluster.streamLeaders(),
      (l) => {
        const now = l.get(TASK_RECORDS_STREAM);
        return now !== undefined && now !== victim;
      },
      { timeoutMs: 60_000, what: `a new leader of ${TASK_RECORDS_STREAM}` },
    );
    const electedMs = Date.now() - killedAt;

    const first = await submit(api, "leader kill during 0");
    const acceptedMs = Date.now() - killedAt;
    const during = [first.taskId, (await submit(api, "leader kill during 1")).taskId];
    await completedOnce([...before, ...during]);
    const allDoneMs = Date.now() - killedAt;

    await cluster.start(victim);
    await cluster.waitMetaLeader();
    await completedOnce([(await submit(api, "leader kill after restart")).taskId]);
    for (const name of ALL_SERVICES) assert.equal(mesh.process(name).exitCode, null, `${name} still runs`);

    t.diagnostic(
      `killed ${victim}, leader of ${TASK_RECORDS_STREAM} and ${led - 1} other streams (services on it: ${victimConns.join(", ") || "none"})`,
    );
    t.diagnostic(
      `new leader of ${TASK_RECORDS_STREAM} after ${electedMs} ms; first submit accepted after ${acceptedMs} ms (${first.tries} tries); 4 tasks completed ${allDoneMs} ms after the kill`,
    );
  });
});
