import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { connect } from "@nats-io/transport-node";
import { TASKS_BUCKET } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { workerGroup } from "@t2v/common/task";
import type { DirectSubmit } from "../support/direct-tasks.js";
import { FAULT_TIMINGS } from "../support/fault-timings.js";
import { scrapeSamples } from "../support/prometheus.js";
import { useMesh } from "../support/use-mesh.js";
import { waitUntil } from "../support/wait.js";

// Scheduling against a real nats-server and real workers; tasks are submitted
// the way the gateway does it, so any tenant and pool can be used.
const mesh = useMesh({
  env: FAULT_TIMINGS,
  services: ["scheduler", "inference", "encoder"],
});

const SHORT: Partial<DirectSubmit> = { numFrames: 17, frameRate: 16 };
/** Waits for the task to end and asserts that it completed. */
async function completes(taskId: string, timeoutMs = 180_000): Promise<TaskRecord> {
  const r = await mesh.direct.waitForEnd(taskId, timeoutMs);
  assert.equal(r.task?.status, TaskStatus.COMPLETED, `task ${taskId}: ${r.task?.errorMessage}`);
  return r;
}
const startMs = (r: TaskRecord) => (r.task?.startTime ? timestampMs(r.task.startTime) : Number.POSITIVE_INFINITY);
/** How many times the inference workers denoised a task (each attempt that got that far). */
const denoisedCount = (taskId: string) =>
  ["inference", "inference-vip"].reduce(
    (n, p) =>
      n +
      mesh
        .logs(p)
        .split("\n")
        .filter((l) => l.includes(taskId) && l.includes('"msg":"denoised"')).length,
    0,
  );

interface RecordWrite {
  readonly taskId: string;
  /** When this test heard it: a write heard after some moment was sent after it, less a round trip. */
  readonly at: number;
  readonly term: bigint;
}

/** Every task record written from now on, with the leader term it carries, heard on the bucket's subjects. */
async function recordWrites(): Promise<{ seen: RecordWrite[]; close(): void }> {
  const nc = await connect({ servers: mesh.natsUrl, ...mesh.nats.admin });
  const seen: RecordWrite[] = [];
  const prefix = `$KV.${TASKS_BUCKET.name}.`;
  nc.subscribe(`${prefix}>`, {
    callback: (err, m) => {
      // Deletes and purges carry no record.
      if (err || m.data.length === 0) return;
      const r = fromBinary(TaskRecordSchema, m.data);
      seen.push({ taskId: m.subject.slice(prefix.length), at: Date.now(), term: r.leaderTerm });
    },
  });
  await nc.flush();
  return { seen, close: () => void nc.close() };
}

describe("scheduling", () => {
  it("serves VIP first, keeps tenants fair, and tells queue positions", async () => {
    // Tenant A's first task is long, so all submissions are in before a slot frees.
    const a: string[] = [await mesh.direct.submit({ tenant: "tenant-a", width: 1280, height: 720, numFrames: 72 })];
    for (let i = 1; i < 8; i++) a.push(await mesh.direct.submit({ ...SHORT, tenant: "tenant-a" }));
    const b = await mesh.direct.submit({ ...SHORT, tenant: "tenant-b" });
    const v = await mesh.direct.submit({ ...SHORT, tenant: "tenant-c", pool: "vip" });
    const batch = await mesh.direct.submit({ ...SHORT, tenant: "tenant-d", pool: "batch" });

    // Queue positions: queued tasks of tenant A stand in submission order.
    const positions = await waitUntil(
      async () => {
        const est = await mesh.direct.estimates(a);
        return a.map((id) => est.find((e) => e.taskId === id)?.position).filter((p) => p !== undefined);
      },
      (found) => found.length >= 4,
      { timeoutMs: 5_000, what: "estimates for 4 queued tasks of tenant A" },
    );
    for (let i = 1; i < positions.length; i++) assert.ok((positions[i] ?? 0) > (positions[i - 1] ?? 0));

    // Admission stats for the gateway.
    await waitUntil(
      async () => (await mesh.channels.queueStats.read("tenant-a"))?.queued ?? 0,
      (queued) => queued >= 4,
      { timeoutMs: 5_000, what: "tenant-a's queue stats showing 4 queued" },
    );

    const [rb, rv, rbatch] = await Promise.all([completes(b), completes(v), completes(batch)]);
    const ra = await Promise.all(a.map((id) => completes(id)));
    const aStartedBeforeB = ra.filter((r) => startMs(r) < startMs(rb)).length;
    // One worker: a1 running and a2 prefetched when B arrived (in flight, not
    // reorderable), then at most one round-robin turn of A before B.
    assert.ok(aStartedBeforeB <= 3, `${aStartedBeforeB} of tenant A's tasks started before tenant B's single task`);
    assert.ok(startMs(rv) < startMs(rb), "VIP went ahead of standard work");
    assert.ok(startMs(rv) <= Math.min(...ra.slice(2).map(startMs)), "VIP started before tenant A's later tasks");
    assert.ok(startMs(rbatch) > Math.max(startMs(rb), ...ra.map(startMs)), "batch waits behind standard work");
  });

  it("takes cancelled tasks out of the queue at once", async () => {
    const long = await mesh.direct.submit({
      tenant: "tenant-k",
      width: 1280,
      height: 720,
      numFrames: 120,
      frameRate: 24,
    });
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push(await mesh.direct.submit({ ...SHORT, tenant: "tenant-k" }));
    await mesh.direct.waitFor(queued[2] ?? "", (r) => r.task?.status === TaskStatus.QUEUED);
    await waitUntil(
      () => mesh.direct.estimates(queued),
      (est) => est.length >= 1,
      { timeoutMs: 5_000, what: "some of tenant K's tasks queued in the scheduler" },
    );
    for (const id of queued) await mesh.direct.cancel(id);
    // "At once": within a second of the broadcasts, none has an estimate any more.
    await waitUntil(
      () => mesh.direct.estimates(queued),
      (est) => est.length === 0,
      { timeoutMs: 1_000, what: "cancelled tasks gone from the queue" },
    );
    await mesh.direct.cancel(long);
    for (const id of [long, ...queued]) {
      assert.equal((await mesh.direct.waitForEnd(id)).task?.status, TaskStatus.CANCELLED);
    }
  });

  it("gives a dedicated VIP worker only VIP work", async () => {
    await mesh.kill("inference");
    // A scrape while the killed worker's heartbeat is still fresh: the metrics SDK would keep that
    // series at its last value for ever, unless the scheduler reports the gone group as 0.
    await scrapeSamples(mesh.metricsUrl("scheduler"), "t2v_workers");
    let sharedBack = false;
    try {
      await mesh.start("inference-vip", { service: "inference", env: { POOLS: "vip", WORKER_ID: "vip-worker" } });
      // The scheduler counts the VIP worker and no longer the killed shared one (its heartbeat went stale).
      const shared = workerGroup((mesh.env.POOLS ?? "").split(","));
      const freshMs = Number(mesh.env.WORKER_FRESH_MS);
      await waitUntil(
        async () => ({
          samples: await scrapeSamples(mesh.metricsUrl("scheduler"), "t2v_workers"),
          // What the heartbeats themselves say, for the message if the scheduler disagrees.
          registry: await mesh.channels.workerRegistry.liveGroups(freshMs),
        }),
        ({ samples }) => {
          const live = samples.filter((x) => x.value > 0).map((x) => x.labels.t2v_worker_group);
          return live.includes("vip") && !live.includes(shared);
        },
        {
          timeoutMs: freshMs + 10_000,
          what: "the scheduler seeing only the VIP worker",
          show: ({ samples, registry }) =>
            `scheduler ${JSON.stringify(samples.map((x) => [x.labels.t2v_worker_group, x.value]))}, ` +
            `heartbeats ${JSON.stringify(registry.map((g) => [g.group, g.workers]))}, ` +
            `scheduler's last lines: ${mesh.logs("scheduler").trimEnd().split("\n").slice(-3).join(" | ")}`,
        },
      );
      const standard = await mesh.direct.submit({ ...SHORT, tenant: "tenant-a" });
      const vip = await mesh.direct.submit({ ...SHORT, tenant: "tenant-a", pool: "vip" });
      await completes(vip);
      const s = await mesh.direct.get(standard);
      assert.equal(s.task?.status, TaskStatus.QUEUED);
      assert.equal(s.dispatchedAttempt, 0, "standard work is not sent to VIP workers");
      await mesh.start("inference");
      sharedBack = true;
      await completes(standard);
      assert.doesNotMatch(mesh.logs("inference-vip"), new RegExp(standard));
    } finally {
      // Whatever failed above, the tests after this one get the shared worker back, and no VIP worker.
      await mesh.kill("inference-vip");
      if (!sharedBack) await mesh.start("inference");
    }
  });

  it("retries transient failures with backoff, then fails with a dead letter", async () => {
    await mesh.kill("encoder");
    await mesh.start("encoder-broken", { service: "encoder", env: { FFMPEG_PATH: "/nonexistent/ffmpeg" } });
    const id = await mesh.direct.submit({ ...SHORT, tenant: "tenant-e" });
    const r = await mesh.direct.waitForEnd(id, 90_000);
    assert.equal(r.task?.status, TaskStatus.FAILED);
    assert.equal(r.task?.attempt, 3);
    assert.match(r.task?.errorMessage ?? "", /after 3 attempts/);
    assert.equal(denoisedCount(id), 3);
    const dl = (await mesh.channels.deadLetters.list()).find((d) => d.taskId === id);
    assert.ok(dl, "dead letter written");
    assert.equal(dl.attempts, 3);
    await mesh.kill("encoder-broken");
    await mesh.start("encoder");
  });

  it("fails at once, without retries, on input the model cannot serve", async () => {
    const id = await mesh.direct.submit({ tenant: "tenant-e", width: 100, height: 100, numFrames: 17, frameRate: 16 });
    const r = await mesh.direct.waitForEnd(id, 30_000);
    assert.equal(r.task?.status, TaskStatus.FAILED);
    assert.equal(r.task?.attempt, 1);
    assert.doesNotMatch(r.task?.errorMessage ?? "", /retrying|attempts/);
  });

  it("completes a task whose worker was killed mid-generation, once", async () => {
    const id = await mesh.direct.submit({
      tenant: "tenant-f",
      width: 1280,
      height: 720,
      numFrames: 240,
      frameRate: 24,
    });
    await mesh.direct.waitFor(
      id,
      (r) => r.task?.status === TaskStatus.PROCESSING && (r.task?.currentStep ?? 0) >= 1,
      60_000,
    );
    await mesh.kill("inference", "SIGKILL");
    await mesh.start("inference");
    const r = await completes(id, 180_000);
    assert.equal(r.task?.attempt, 2);
    assert.equal(denoisedCount(id), 1, "denoised to completion exactly once");
    assert.equal(r.videoObject, `${id}.mp4`);
    const day = 86_400_000;
    const usage = await mesh.channels.usage.list("tenant-f", new Date(Date.now() - day), new Date(Date.now() + day));
    assert.equal(usage.filter((u) => u.taskId === id).length, 1, "billed once");
  });

  it("loses nothing when the scheduler is killed, and a standby takes over", async () => {
    await mesh.start("scheduler-2", { service: "scheduler", env: { REPLICA_ID: "standby" }, noWait: true });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await mesh.direct.submit({ ...SHORT, tenant: `tenant-g${i % 2}` }));
    await mesh.kill("scheduler", "SIGKILL");
    await Promise.all(ids.map((id) => completes(id, 120_000)));
    assert.match(mesh.logs("scheduler-2"), /leader: this replica dispatches/);
    for (const id of ids) assert.equal(denoisedCount(id), 1, `task ${id} denoised once`);
  });

  it("fences a leader stopped past its lease: the standby takes over, the old one writes nothing when it wakes", async () => {
    // scheduler-2 leads since the test above; scheduler-3 stands by.
    await mesh.start("scheduler-3", { service: "scheduler", env: { REPLICA_ID: "standby-3" }, noWait: true });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await mesh.direct.submit({ ...SHORT, tenant: `tenant-s${i % 2}` }));
    const writes = await recordWrites();
    let woken = 0;
    let wokeAt = 0;
    // Closed whatever fails: an open connection would keep this file's process from ending.
    try {
      const leader = mesh.process("scheduler-2");
      leader.kill("SIGSTOP");
      try {
        await waitUntil(
          async () => mesh.logs("scheduler-3"),
          (l) => /leader: this replica dispatches/.test(l),
          { what: "the standby takes over", timeoutMs: 60_000, show: (l) => l.slice(-2_000) },
        );
        // Submitted while the old leader sleeps with its consumers' messages and timers due.
        for (let i = 0; i < 2; i++) ids.push(await mesh.direct.submit({ ...SHORT, tenant: "tenant-s2" }));
      } finally {
        woken = mesh.logs("scheduler-2").length;
        wokeAt = Date.now();
        leader.kill("SIGCONT");
      }
      await Promise.all(ids.map((id) => completes(id, 120_000)));
      await waitUntil(
        async () => mesh.logs("scheduler-2").slice(woken),
        (l) => /leader lease lost: standing by/.test(l),
        { what: "the old leader stands by", timeoutMs: 30_000, show: (l) => l.slice(-2_000) },
      );
    } finally {
      writes.close();
    }
    // A write the old leader sent before it was stopped may log after it wakes; none may be sent after.
    let latestTerm = 0n;
    for (const w of writes.seen) if (w.term > latestTerm) latestTerm = w.term;
    const afterWake = writes.seen.filter((w) => w.at >= wokeAt && w.term > 0n);
    assert.ok(afterWake.length > 0, "the new leader wrote after the old one woke");
    assert.deepEqual(
      afterWake.filter((w) => w.term < latestTerm),
      [],
      "no record was written for the old leader's term after it woke",
    );
    const oldLogs = mesh.logs("scheduler-2").slice(woken).split("\n");
    for (const id of ids.slice(3)) {
      const lines = oldLogs.filter((l) => l.includes(id) && /"msg":"task (status|dispatched)"/.test(l));
      assert.deepEqual(lines, [], `the old leader never wrote or dispatched ${id}, submitted while it slept`);
    }
    for (const id of ids) assert.equal(denoisedCount(id), 1, `task ${id} denoised once`);
    const day = 86_400_000;
    const billed: string[] = [];
    for (const tenant of ["tenant-s0", "tenant-s1", "tenant-s2"]) {
      const usage = await mesh.channels.usage.list(tenant, new Date(Date.now() - day), new Date(Date.now() + day));
      billed.push(...usage.map((u) => u.taskId));
    }
    assert.deepEqual(billed.sort(), [...ids].sort(), "one usage record per task, never two");
  });

  it("fails a task that misses its deadline", async () => {
    const long = await mesh.direct.submit({
      tenant: "tenant-h",
      width: 1280,
      height: 720,
      numFrames: 120,
      frameRate: 24,
    });
    const late = await mesh.direct.submit({ ...SHORT, tenant: "tenant-h", deadlineMs: Date.now() + 1_000 });
    const r = await mesh.direct.waitForEnd(late, 30_000);
    assert.equal(r.task?.status, TaskStatus.FAILED);
    assert.match(r.task?.errorMessage ?? "", /deadline/);
    await mesh.direct.cancel(long);
  });

  it("serves an identical seeded request from the result cache, with no GPU work", async () => {
    const first = await mesh.direct.submit({
      ...SHORT,
      tenant: "tenant-i",
      seed: 77,
      seedExplicit: true,
      prompt: "cached",
    });
    const r1 = await completes(first);
    const second = await mesh.direct.submit({
      ...SHORT,
      tenant: "tenant-i",
      seed: 77,
      seedExplicit: true,
      prompt: "cached",
    });
    const r2 = await completes(second, 10_000);
    assert.equal(r2.task?.cacheHit, true);
    assert.equal(r2.videoObject, r1.videoObject);
    assert.equal(denoisedCount(second), 0);
    // Another tenant, or no explicit seed: generated afresh.
    const other = await mesh.direct.submit({
      ...SHORT,
      tenant: "tenant-j",
      seed: 77,
      seedExplicit: true,
      prompt: "cached",
    });
    const r3 = await completes(other);
    assert.equal(r3.task?.cacheHit, false);
    assert.equal(denoisedCount(other), 1);
  });

  it("loses no acknowledged task when nats-server is killed and restarted", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await mesh.direct.submit({ ...SHORT, tenant: "tenant-n" }));
    // Every submission above was acknowledged by JetStream (file storage); now kill -9 the server.
    // nats-server 2.9 may lose a just-acknowledged message this way (it writes its file store after
    // the ack); the scheduler's sweep picks up any task whose submission did not survive.
    await mesh.nats.restart();
    await Promise.all(ids.map((id) => completes(id, 120_000)));
    for (const id of ids) assert.equal(denoisedCount(id), 1, `task ${id} denoised once`);
  });

  it("picks up a task whose submission was lost", async () => {
    const id = await mesh.direct.submit({ ...SHORT, tenant: "tenant-o", loseSubmission: true });
    await completes(id, 60_000);
    // Whichever replica leads by now (the tests above moved the lease around).
    const schedulers = ["scheduler", "scheduler-2", "scheduler-3"].map((n) => mesh.logs(n)).join("");
    assert.match(schedulers, new RegExp(`${id}.*submission never arrived`));
  });
});
