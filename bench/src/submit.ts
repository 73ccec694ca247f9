import { healthClient, videoClient } from "./clients.js";
import { type BenchMesh, cpuMs, startMesh } from "./mesh.js";
import { type BenchResult, type Figure, figure, targeted } from "./result.js";
import type { Sizes } from "./sizes.js";
import { closedLoop, round2, type Summary, summarize, withLoad } from "./stats.js";
import { cdfChart } from "./svg.js";

/** Limits lifted so the benchmark measures the path, not the admission policy. */
export const UNLIMITED_ENV = {
  RATE_LIMIT_STANDARD: "9999999/9999999",
  MAX_QUEUED_PER_TENANT_STANDARD: "1000000",
  WATCH_STREAMS_PER_KEY: "1000000",
  WATCH_STREAMS_PER_TENANT: "1000000",
};

export const CREATE_REQUEST = { prompt: "a lighthouse at dusk", resolution: "480p", duration: 3, frameRate: 16 };

/** CreateTask against grpc.health.v1.Health/Check of the same gateway, alternating per client count. */
export async function benchSubmit(sizes: Sizes): Promise<BenchResult> {
  const { value, load } = await withLoad(async () => {
    const mesh = await startMesh(["scheduler", "gateway"], UNLIMITED_ENV);
    try {
      return await measure(mesh, sizes);
    } finally {
      await mesh.stop();
    }
  });
  return { ...value, load };
}

async function measure(mesh: BenchMesh, sizes: Sizes): Promise<Omit<BenchResult, "load">> {
  const figures: Figure[] = [];
  const distributions: Record<string, Summary> = {};
  const samples: Record<string, number[]> = {};
  // Sessions shared by the clients of one loop, as a client pool would (8 HTTP/2 sessions).
  const videos = Array.from({ length: 8 }, () => videoClient(mesh.baseUrl, mesh.apiKey));
  const healths = Array.from({ length: 8 }, () => healthClient(mesh.baseUrl));
  let n = 0;
  const create = () =>
    (videos[n++ % videos.length] ?? videoClient(mesh.baseUrl, mesh.apiKey)).createTask(CREATE_REQUEST);
  const check = () => (healths[n++ % healths.length] ?? healthClient(mesh.baseUrl)).check({ service: "" });
  await closedLoop(4, 1_000, create); // warm-up: JIT, sessions, key cache
  await closedLoop(4, 500, check);
  // One NATS round trip from here (a KV get of a missing key), to size the sequential round trips of CreateTask.
  const rtt = summarize((await closedLoop(1, 1_000, () => mesh.channels.tasks.get("no-such-task"))).latencies);
  figures.push({ name: "one NATS KV round trip p50 (bench process, 1 client)", unit: "ms", value: rtt.p50 });
  distributions["nats-kv-get"] = rtt;
  const procs = ["gateway", "scheduler", "nats"];
  // The three processes, then the bench client itself (it shares the cores).
  const cpu = async () => {
    const own = process.cpuUsage();
    return [...(await Promise.all(procs.map((p) => cpuMs(mesh.pid(p))))), (own.user + own.system) / 1000];
  };
  /** CPU ms per call of each process over one loop. */
  const perCall = (a: number[], b: number[], calls: number) =>
    a.map((x, i) => round2(((b[i] ?? 0) - x) / Math.max(1, calls)));
  for (const clients of sizes.submitClients) {
    const cpu0 = await cpu();
    const h = await closedLoop(clients, sizes.submitMs, check);
    const cpu1 = await cpu();
    const c = await closedLoop(clients, sizes.submitMs, create);
    const cpu2 = await cpu();
    const [hg = 0] = perCall(cpu0, cpu1, h.latencies.length);
    const [cg = 0, cs_ = 0, cn = 0, cc = 0] = perCall(cpu1, cpu2, c.latencies.length);
    figures.push(
      figure({
        name: `gateway CPU per CreateTask, ${clients} clients`,
        unit: "ms",
        value: cg,
        baselineName: "per Health/Check",
        baseline: hg,
      }),
      { name: `scheduler + nats-server CPU per CreateTask, ${clients} clients`, unit: "ms", value: round2(cs_ + cn) },
    );
    const hs = summarize(h.latencies);
    const cs = summarize(c.latencies);
    distributions[`health-${clients}`] = hs;
    distributions[`create-${clients}`] = cs;
    samples[`CreateTask, ${clients} clients`] = c.latencies;
    samples[`Health/Check, ${clients} clients`] = h.latencies;
    const why = `CPU, not waiting: the gateway spends ${cg} ms of CPU per CreateTask against ${hg} ms per Health/Check, and the scheduler and nats-server ${round2(cs_ + cn)} ms more on the same 2 cores, and the bench client ${cc} ms; the awaited NATS round trips (key and tenant lookups in packages/common/src/api-keys/api-key-store.ts, the queue-stats read in services/gateway/src/adapters/admission.ts, the record create and the submission publish in services/gateway/src/use-cases/create-task.ts) cost ${rtt.p50} ms p50 each here, CreateTask - Health/Check = ${round2(cs.p50 - hs.p50)} ms p50`;
    figures.push(
      targeted(
        {
          name: `CreateTask p50, ${clients} clients`,
          unit: "ms",
          value: cs.p50,
          baselineName: "Health/Check p50",
          baseline: hs.p50,
        },
        "<=",
        2,
        why,
      ),
      targeted(
        {
          name: `CreateTask throughput, ${clients} clients`,
          unit: "calls/s",
          value: c.perSecond,
          baselineName: "Health/Check calls/s",
          baseline: h.perSecond,
        },
        ">=",
        0.5,
        why,
      ),
    );
    if (c.errors + h.errors > 0)
      figures.push({ name: `errors, ${clients} clients (create / check)`, unit: "calls", value: c.errors + h.errors });
  }
  const pick = (k: string) => ({ name: k, values: samples[k] ?? [] });
  const mid = sizes.submitClients[1] ?? sizes.submitClients[0] ?? 1;
  return {
    name: "submit",
    title: "Submit: CreateTask against Health/Check on the same gateway",
    method: `gRPC over 8 HTTP/2 sessions, closed loop of N clients for ${sizes.submitMs / 1000} s each, Health/Check then CreateTask at each N (gateway + scheduler running, rate limits lifted). CPU per call = a process's CPU time (/proc/<pid>/stat) during the loop / calls, its background work included.`,
    figures,
    distributions,
    notes: [],
    charts: [
      {
        file: "submit-latency.svg",
        caption: `Submit latency distribution at 1 and ${mid} clients`,
        svg: cdfChart("Submit latency (CDF)", "ms", [
          pick("Health/Check, 1 clients"),
          pick("CreateTask, 1 clients"),
          pick(`Health/Check, ${mid} clients`),
          pick(`CreateTask, ${mid} clients`),
        ]),
      },
    ],
  };
}
