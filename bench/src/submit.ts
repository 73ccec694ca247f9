import { healthClient, videoClient } from "./clients.js";
import { type BenchMesh, cpuMs, metricSum, natsTraffic, startMesh } from "./mesh.js";
import { type BenchResult, type Figure, figure, targeted } from "./result.js";
import type { Sizes } from "./sizes.js";
import { closedLoop, loopFailures, round2, type Summary, summarize, withLoad } from "./stats.js";
import { cdfChart } from "./svg.js";

/** Limits lifted so the benchmark measures the path, not the admission policy. */
export const UNLIMITED_ENV = {
  RATE_LIMIT_STANDARD: "9999999/9999999",
  MAX_QUEUED_PER_TENANT_STANDARD: "1000000",
  // A full run creates more tasks than a standard tenant's default day (5,000) or store (20,000).
  DAILY_TASK_QUOTA_STANDARD: "100000000",
  STORED_TASKS_PER_TENANT_STANDARD: "100000000",
  WATCH_STREAMS_PER_KEY: "1000000",
  WATCH_STREAMS_PER_TENANT: "1000000",
  WATCH_STREAMS_MAX: "1000000",
  // The bench's one address stands in for many clients: over 10,000 streams it holds 112+ connections.
  MAX_CONNECTIONS_PER_ADDRESS: "100000",
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
  const notes: string[] = [];
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
  /** The gateway's stage histograms (t2v_submit_stage_seconds, t2v_queue_estimate_wait_seconds): [sum s, count] each. */
  const stages = ["admit", "persist", "publish", "estimate"] as const;
  const stageTotals = async () => {
    const url = mesh.metricsUrl("gateway");
    return Promise.all(
      stages.map(async (stage) => {
        const [name, label] =
          stage === "estimate"
            ? ["t2v_queue_estimate_wait_seconds", undefined]
            : ["t2v_submit_stage_seconds", `t2v_stage="${stage}"`];
        return [await metricSum(url, `${name}_sum`, label), await metricSum(url, `${name}_count`, label)] as const;
      }),
    );
  };
  /** CPU ms per call of each process over one loop. */
  const perCall = (a: number[], b: number[], calls: number) =>
    a.map((x, i) => round2(((b[i] ?? 0) - x) / Math.max(1, calls)));
  for (const clients of sizes.submitClients) {
    const cpu0 = await cpu();
    const h = await closedLoop(clients, sizes.submitMs, check);
    const cpu1 = await cpu();
    const stages0 = await stageTotals();
    const traffic0 = await natsTraffic(mesh.natsMonitorUrl);
    const c = await closedLoop(clients, sizes.submitMs, create);
    const cpu2 = await cpu();
    const traffic1 = await natsTraffic(mesh.natsMonitorUrl);
    const stages1 = await stageTotals();
    /** Mean ms per CreateTask in each stage during the loop. */
    const stageMs = stages.map((_, i) => {
      const [s0 = 0, n0 = 0] = stages0[i] ?? [];
      const [s1 = 0, n1 = 0] = stages1[i] ?? [];
      return round2(((s1 - s0) * 1000) / Math.max(1, n1 - n0));
    });
    for (const [i, stage] of stages.entries())
      figures.push({ name: `CreateTask ${stage} stage mean, ${clients} clients`, unit: "ms", value: stageMs[i] ?? 0 });
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
    const calls = Math.max(1, c.latencies.length);
    /** Messages per CreateTask a service's connections sent to nats-server (`sent`) or got from it. */
    const per = (way: "sent" | "received", user: string) =>
      round2(((traffic1[way][user] ?? 0) - (traffic0[way][user] ?? 0)) / calls);
    const traffic = {
      gatewaySent: per("sent", "gateway"),
      gatewayReceived: per("received", "gateway"),
      schedulerSent: per("sent", "scheduler"),
      schedulerReceived: per("received", "scheduler"),
    };
    figures.push(
      {
        name: `gateway NATS messages sent per CreateTask, ${clients} clients`,
        unit: "msgs",
        value: traffic.gatewaySent,
      },
      {
        name: `scheduler NATS messages sent per CreateTask, ${clients} clients`,
        unit: "msgs",
        value: traffic.schedulerSent,
      },
    );
    const hs = summarize(h.latencies);
    const cs = summarize(c.latencies);
    distributions[`health-${clients}`] = hs;
    distributions[`create-${clients}`] = cs;
    samples[`CreateTask, ${clients} clients`] = c.latencies;
    samples[`Health/Check, ${clients} clients`] = h.latencies;
    const [admitMs = 0, persistMs = 0, publishMs = 0, estimateMs = 0] = stageMs;
    // Admission first, then the record, the submission and the estimate at once (create-task.ts).
    const waited = round2(admitMs + Math.max(persistMs, publishMs, estimateMs));
    const why = `measured here: a submit waits on NATS for ${waited} ms of the ${cs.p50} ms p50: admission (${admitMs} ms), then, at once, the record's writes (${persistMs}: two round trips, a slot in the tenant's day list and then the entries beside the record), the submission's publish (${publishMs}) and the scheduler's queue estimate (${estimateMs}), against ${rtt.p50} ms for one KV get from an idle client (nats-server shares the 2 cores); and the gateway spends ${cg} ms of CPU per CreateTask against ${hg} per Health/Check (scheduler and nats-server ${round2(cs_ + cn)} ms more, bench client ${cc} ms); each CreateTask sends nats-server ${traffic.gatewaySent} messages from the gateway (${traffic.gatewayReceived} back) and ${traffic.schedulerSent} from the scheduler (${traffic.schedulerReceived} back), fewer at more clients as the admission and quota writes of a tenant's concurrent submits go together`;
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
    const failed = loopFailures([
      [`CreateTask, ${clients} clients`, c],
      [`Health/Check, ${clients} clients`, h],
    ]);
    figures.push(...failed.figures);
    notes.push(...failed.notes);
  }
  const pick = (k: string) => ({ name: k, values: samples[k] ?? [] });
  const mid = sizes.submitClients[1] ?? sizes.submitClients[0] ?? 1;
  return {
    name: "submit",
    title: "Submit: CreateTask against Health/Check on the same gateway",
    method: `gRPC over 8 HTTP/2 sessions, closed loop of N clients for ${sizes.submitMs / 1000} s each, Health/Check then CreateTask at each N (gateway + scheduler running, rate limits lifted). CPU per call = a process's CPU time (/proc/<pid>/stat) during the loop / calls, its background work included.`,
    figures,
    distributions,
    notes,
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
