import { spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId } from "@t2v/common/task";
import { videoClient } from "./clients.js";
import { type BenchMesh, REPO_ROOT, rssBytes, startMesh } from "./mesh.js";
import { type BenchResult, type Figure, figure } from "./result.js";
import type { Sizes } from "./sizes.js";
import { round2, summarize, withLoad } from "./stats.js";
import { UNLIMITED_ENV } from "./submit.js";
import { lineChart } from "./svg.js";

/** HTTP/2 sessions the streams spread over: at least 16, and never more streams on one than the gateway allows. */
const MIN_SESSIONS = 16;
/** Under the gateway's HTTP2_MAX_CONCURRENT_STREAMS (100): a stream over it is refused by HTTP/2 itself. */
const STREAMS_PER_SESSION = 90;
const sessionsFor = (n: number): number => Math.max(MIN_SESSIONS, Math.ceil(n / STREAMS_PER_SESSION));
const TARGET_STREAMS = 10_000;
/** One task watched by every stream (the issue's case: many viewers of one clip) is rewritten this often. */
const SHARED_UPDATE_MS = 250;
/**
 * Viewers of one clip, at most: 2,000 (the count first measured) at 4 events/s each is 8,000
 * writes/s, all the 2 cores here can take beside the bench's own client.
 */
const SHARED_MAX_STREAMS = 2_000;

interface Run {
  latencies: number[];
  opened: number;
  failed: number;
  /** Why streams failed: "<code>: <message>" -> count. */
  failures: Map<string, number>;
  rssBefore: number;
  rssAfter: number;
}

/** Opens `n` WatchTask streams on `baseUrl`; counts every event after the first (the current state). */
function openStreams(baseUrl: string, key: string, ids: string[], latencies: number[], abort: AbortSignal) {
  const sessions = sessionsFor(ids.length);
  const clients = Array.from({ length: sessions }, () => videoClient(baseUrl, key));
  let opened = 0;
  let failed = 0;
  const failures = new Map<string, number>();
  const done = ids.map(async (taskId, i) => {
    try {
      let first = true;
      for await (const ev of (clients[i % sessions] ?? clients[0])?.watchTask({ taskId }, { signal: abort }) ?? []) {
        if (first) {
          first = false;
          opened++;
          continue;
        }
        const at = ev.task?.updateTime;
        if (at) latencies.push(Date.now() - timestampMs(at));
      }
    } catch (err) {
      const e = ConnectError.from(err);
      if (e.code === Code.Canceled) return;
      failed++;
      const why = `${Code[e.code]}: ${e.rawMessage}`.slice(0, 200);
      failures.set(why, (failures.get(why) ?? 0) + 1);
    }
  });
  return { opened: () => opened, failed: () => failed, failures, done: Promise.all(done) };
}

type Streams = ReturnType<typeof openStreams>;

/** Waits until each of the `n` streams opened or failed, at most 60 s. */
async function allSettled(streams: Streams, n: number): Promise<void> {
  const until = Date.now() + 60_000;
  while (streams.opened() + streams.failed() < n && Date.now() < until) await delay(200);
}

/** Ends the streams (waiting at most 10 s for them) and returns what the run measured. */
async function endRun(
  streams: Streams,
  abort: AbortController,
  latencies: number[],
  rssBefore: number,
  rssAfter: number,
): Promise<Run> {
  abort.abort();
  await Promise.race([streams.done, delay(10_000)]);
  const { failures } = streams;
  return { latencies, opened: streams.opened(), failed: streams.failed(), failures, rssBefore, rssAfter };
}

/**
 * `shared`: all n streams watch one task, rewritten every SHARED_UPDATE_MS; otherwise each its own task,
 * round robin, one update per stream per interval.
 */
async function gatewayRun(mesh: BenchMesh, n: number, sizes: Sizes, shared = false): Promise<Run> {
  const ch = mesh.channels;
  const records = new Map<string, { record: TaskRecord; revision: number }>();
  const now = timestampNow();
  const tasks = shared ? 1 : n;
  for (let i = 0; i < tasks; i += 200)
    await Promise.all(
      Array.from({ length: Math.min(200, tasks - i) }, async () => {
        const taskId = newTaskId();
        const record = create(TaskRecordSchema, {
          task: {
            taskId,
            status: TaskStatus.PROCESSING,
            createTime: now,
            updateTime: now,
            attempt: 1,
            tier: "standard",
            progress: 1,
          },
          tenantId: "bench",
          pool: "standard",
        });
        const stored = await ch.tasks.create(record);
        records.set(taskId, { record, revision: stored.revision });
      }),
    );
  const taskIds = [...records.keys()];
  const ids = shared ? Array.from({ length: n }, () => taskIds[0] ?? "") : taskIds;
  const rssBefore = await rssBytes(mesh.pid("gateway"));
  const latencies: number[] = [];
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const streams = openStreams(mesh.baseUrl, mesh.apiKey, ids, latencies, abort.signal);
  await allSettled(streams, n);
  // Round-robin updates: every stream gets one event per interval; each stamps its send time.
  let k = 0;
  const t0 = Date.now();
  const until = t0 + sizes.fanoutMs;
  while (Date.now() < until) {
    const tick = delay(20);
    // Paced by the clock: the updates due by now, whatever the round trips cost.
    const due = shared
      ? Math.floor((Date.now() - t0) / SHARED_UPDATE_MS) - k
      : Math.floor(((Date.now() - t0) * n) / sizes.streamEventIntervalMs) - k;
    await Promise.all(
      Array.from({ length: Math.max(0, due) }, async () => {
        const id = taskIds[k++ % taskIds.length] ?? "";
        const cur = records.get(id);
        if (!cur?.record.task) return;
        const next = create(TaskRecordSchema, {
          ...cur.record,
          task: { ...cur.record.task, updateTime: timestampNow() },
        });
        const stored = await ch.tasks.replace(next, cur.revision).catch(() => null);
        if (stored) records.set(id, { record: next, revision: stored.revision });
      }),
    );
    await tick;
  }
  await delay(1_000);
  const rssAfter = await rssBytes(mesh.pid("gateway"));
  return endRun(streams, abort, latencies, rssBefore, rssAfter);
}

async function rawRun(n: number, sizes: Sizes, intervalMs = sizes.streamEventIntervalMs): Promise<Run> {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bench", "dist", "raw-stream-server.js")], {
    env: { ...process.env, RAW_INTERVAL_MS: String(intervalMs) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((r) =>
      child.stdout?.once("data", (d: Buffer) => r(Number(d.toString().trim()))),
    );
    const pid = child.pid ?? 0;
    const rssBefore = await rssBytes(pid);
    const latencies: number[] = [];
    const abort = new AbortController();
    setMaxListeners(0, abort.signal);
    const ids = Array.from({ length: n }, (_, i) => `raw-${i}`);
    const streams = openStreams(`http://127.0.0.1:${port}`, "none", ids, latencies, abort.signal);
    await allSettled(streams, n);
    await delay(sizes.fanoutMs);
    const rssAfter = await rssBytes(pid);
    return await endRun(streams, abort, latencies, rssBefore, rssAfter);
  } finally {
    child.kill("SIGTERM");
  }
}

/** N WatchTask streams on one gateway, one event per stream per interval, against a bare connect-node server. */
export async function benchFanout(sizes: Sizes): Promise<BenchResult> {
  const runs = await withLoad(async () => {
    const mesh = await startMesh(["gateway"], { ...UNLIMITED_ENV });
    const out: { n: number; ours: Run; raw: Run; shared: boolean }[] = [];
    // Each run on a gateway of its own: V8 keeps the heap an earlier, larger run grew.
    let runs = 0;
    const fresh = async (): Promise<BenchMesh> => {
      if (runs++ > 0) {
        await mesh.kill("gateway");
        await mesh.start("gateway");
      }
      return mesh;
    };
    try {
      for (const n of sizes.streams)
        out.push({ n, ours: await gatewayRun(await fresh(), n, sizes), raw: await rawRun(n, sizes), shared: false });
      for (const n of sizes.streams.filter((n) => n <= SHARED_MAX_STREAMS))
        out.push({
          n,
          ours: await gatewayRun(await fresh(), n, sizes, true),
          raw: await rawRun(n, sizes, SHARED_UPDATE_MS),
          shared: true,
        });
    } finally {
      await mesh.stop();
    }
    return out;
  });
  const mib = (b: number): number => round2(b / 2 ** 20);
  const figures: Figure[] = runs.value.flatMap(({ n, ours, raw, shared }) => {
    const o = summarize(ours.latencies);
    const r = summarize(raw.latencies);
    const rate = round2((n * 1000) / (shared ? SHARED_UPDATE_MS : sizes.streamEventIntervalMs));
    const label = shared ? `${n} streams on one task` : `${n} streams`;
    return [
      {
        name: `${label}: opened (ours)`,
        unit: "streams",
        value: ours.opened,
      },
      { name: `${label}: streams that failed (ours)`, unit: "streams", value: ours.failed },
      {
        name: `${label} at ${rate} events/s: delivery p99`,
        unit: "ms",
        value: o.p99,
        baselineName: "bare connect-node stream p99",
        baseline: r.p99,
      },
      figure({
        name: `${label}: delivery p50`,
        unit: "ms",
        value: o.p50,
        baselineName: "bare connect-node p50",
        baseline: r.p50,
      }),
      figure({
        name: `${label}: events delivered`,
        unit: "events",
        value: o.n,
        baselineName: "bare connect-node",
        baseline: r.n,
      }),
      figure({
        name: `${label}: gateway RSS`,
        unit: "MiB",
        value: mib(ours.rssAfter),
        baselineName: "bare connect-node RSS",
        baseline: mib(raw.rssAfter),
      }),
      {
        name: `${label}: RSS per stream (ours / bare)`,
        unit: "KiB",
        value: round2((ours.rssAfter - ours.rssBefore) / 1024 / n),
        baselineName: "bare",
        baseline: round2((raw.rssAfter - raw.rssBefore) / 1024 / n),
      },
    ].map((f) => figure(f));
  });
  // Absolute targets of the issue (delivery p99 <= 250 ms, RSS <= 1 GB) checked on the value, not the ratio.
  const checked = figures.map((f) => {
    if (/delivery p99$/.test(f.name)) {
      const met = f.value <= 250;
      return {
        ...f,
        target: "p99 <= 250 ms",
        met,
        ...(met
          ? {}
          : {
              reason: `${f.baseline !== undefined ? `the bare connect-node server, with no NATS, auth or record behind it, had p99 ${f.baseline} ms at the same count and event rate in this run; ` : ""}ours is one NATS KV watch of all task records per gateway (services/gateway/src/use-cases/task-watch-hub.ts), a record decode + view per change of a watched task, then one Protobuf encode and HTTP/2 write per stream; the bench's client and updater share the 2 cores with the gateway and nats-server`,
            }),
      };
    }
    if (/gateway RSS$/.test(f.name)) {
      const met = f.value <= 1024;
      return {
        ...f,
        target: "RSS <= 1024 MiB",
        met,
        ...(met
          ? {}
          : {
              reason: `${f.baseline !== undefined ? `the bare connect-node server held the same streams in ${f.baseline} MiB; ` : ""}see RSS per stream against it. A heap snapshot at 3,000 streams (bench/README.md) puts about 11 KiB of closures per stream in connect-node's streaming pipeline, which the bare server has too, and about 2 KiB in ours; RSS runs at about twice the heap`,
            }),
      };
    }
    return f;
  });
  const largest = sizes.streams.at(-1) ?? 0;
  const top = runs.value.filter((r) => !r.shared).at(-1);
  if (top && largest < TARGET_STREAMS) {
    // A linear projection from the largest count run, labelled as such: the quick run does not open 10,000.
    const perStream = (top.ours.rssAfter - top.ours.rssBefore) / top.n;
    const projected = mib(top.ours.rssBefore + perStream * TARGET_STREAMS);
    const met = projected <= 1024;
    checked.push({
      name: `gateway RSS at ${TARGET_STREAMS} streams, projected linearly from ${top.n}`,
      unit: "MiB",
      value: projected,
      target: "RSS <= 1024 MiB (projection)",
      met,
      ...(met
        ? {}
        : {
            reason: `${round2(perStream / 1024)} KiB of gateway RSS per stream measured at ${top.n} streams on as many tasks, against ${round2((top.raw.rssAfter - top.raw.rssBefore) / 1024 / top.n)} KiB per bare connect-node stream; a linear projection from ${top.n} overstates the fixed part (run with --streams=10000 to measure it)`,
          }),
    });
  }
  return {
    name: "fanout",
    title: "Fan-out: concurrent WatchTask streams on one gateway",
    method: `Each run on a freshly started gateway. N streams over max(${MIN_SESSIONS}, N / ${STREAMS_PER_SESSION}) HTTP/2 sessions (the gateway allows 100 streams per connection), each on a task of its own, each task record rewritten once per ${sizes.streamEventIntervalMs / 1000} s (round robin, updateTime stamped just before the KV write) for ${sizes.fanoutMs / 1000} s; then N streams on one task (many viewers of one clip), rewritten every ${SHARED_UPDATE_MS} ms. Delivery = receipt - updateTime. Baseline: a bare connect-node server (bench/src/raw-stream-server.ts) sending each stream one event per interval (the same interval as ours), same client.`,
    load: runs.load,
    figures: checked,
    notes: [
      ...(sizes.mode !== "full" && largest < TARGET_STREAMS
        ? [`${sizes.mode} mode: up to ${largest} streams (the issue's target is 10,000).`]
        : []),
      // Why streams failed, as the client saw it: a failed stream is a finding, not noise.
      ...runs.value.flatMap(({ n, ours, shared }) =>
        [...ours.failures].map(
          ([why, count]) => `${shared ? `${n} streams on one task` : `${n} streams`}: ${count} failed with ${why}`,
        ),
      ),
    ],
    charts: [
      {
        file: "fanout.svg",
        caption: "Streams against delivery latency p99",
        svg: lineChart("Delivery p99 against concurrent streams", "streams", "ms", [
          {
            name: "gateway p99 (a task per stream)",
            points: runs.value
              .filter((r) => !r.shared)
              .map((r) => [r.n, summarize(r.ours.latencies).p99] as [number, number]),
          },
          {
            name: "gateway p99 (one task)",
            points: runs.value
              .filter((r) => r.shared)
              .map((r) => [r.n, summarize(r.ours.latencies).p99] as [number, number]),
          },
          {
            name: "bare connect-node p99",
            points: runs.value
              .filter((r) => !r.shared)
              .map((r) => [r.n, summarize(r.raw.latencies).p99] as [number, number]),
          },
        ]),
      },
    ],
  };
}
