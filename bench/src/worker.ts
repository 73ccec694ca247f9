import { fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { EVENTS_CONSUMER } from "@t2v/common/channels";
import { WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { videoClient } from "./clients.js";
import { ended, submitDirect, waitRecord } from "./direct.js";
import { type BenchMesh, metricSum, startMesh } from "./mesh.js";
import { absolute, type BenchResult, type Figure, figure } from "./result.js";
import type { Sizes } from "./sizes.js";
import { round2, summarize, withLoad } from "./stats.js";
import { UNLIMITED_ENV } from "./submit.js";
import { barChart, stackedBars } from "./svg.js";

/**
 * Assumed Wan2.2 step time for the projection (seconds per denoising step, both
 * guidance passes, one GPU). An input, not a measurement: set BENCH_WAN_STEP_S
 * from your own GPU's step time. Steps as Wan2.2's default sampler (40 for A14B T2V).
 */
const WAN_STEP_S = Number(process.env.BENCH_WAN_STEP_S ?? 8);
const WAN_STEPS = Number(process.env.BENCH_WAN_STEPS ?? 40);

/**
 * Why a gap is what it is, from the same run: the next job is held, its prompt encoded and its
 * seeded noise drawn while one denoises (PIPELINE_NEXT_TASK=1, services/inference/src/entry-points/work-loop.ts);
 * each gap is split at the next task's "started" event into the hand-off before it (the previous
 * generate() returning, the next job's record read and attempt claim) and the start-up after it
 * (until its first step begins: the engine call, and a checkpoint lookup for a task that ran before).
 */
function gapReason(handoffP50: number, startupP50: number): string {
  return `measured from the worker's events: of each gap, p50 ${handoffP50} ms pass before the next task's "started" event (the previous generate() returning, the next job's record read and attempt claim in services/inference/src/entry-points/generate-consumer.ts) and p50 ${startupP50} ms after it until its first step begins; the next job is already held, its prompt encoded and its noise drawn, and the previous clip's latents upload on their own NATS connection, but the encoder decodes those latents on the same 2 cores meanwhile (VAE decode per task: see the stages table), and the busy share also counts the hand-offs between two steps of a task (drawing the next task's noise among them) as idle`;
}

interface StepMark {
  endMs: number;
  stepMs: number;
  step: number;
}

function stepRecorder(mesh: BenchMesh) {
  const steps = new Map<string, StepMark[]>();
  /** When each task's first "started" event was sent, by the worker's clock. */
  const started = new Map<string, number>();
  const sub = mesh.bus.subscribe(EVENTS_CONSUMER.filter, (data: Uint8Array) => {
    const ev = fromBinary(WorkerEventSchema, data);
    if (ev.time === undefined) return;
    if (ev.event.case === "started" && !started.has(ev.taskId)) started.set(ev.taskId, timestampMs(ev.time));
    if (ev.event.case !== "step") return;
    const marks = steps.get(ev.taskId) ?? [];
    marks.push({ endMs: timestampMs(ev.time), stepMs: ev.event.value.stepSeconds * 1000, step: ev.event.value.step });
    steps.set(ev.taskId, marks);
  });
  return { steps, started, stop: () => sub.unsubscribe() };
}

/** Idle gap between tasks under a backlog, from the worker's own step events; busy share of the denoise wall. */
async function idleGap(mesh: BenchMesh, tasks: number) {
  const rec = stepRecorder(mesh);
  try {
    const ids: string[] = [];
    for (let i = 0; i < tasks; i++)
      ids.push(await submitDirect(mesh.channels, { tenant: "gap", pool: "standard", numFrames: 17, frameRate: 16 }));
    for (const id of ids) await waitRecord(mesh.channels, id, ended, 300_000, 100);
    const runs = ids
      .map((id) => ({ id, m: [...(rec.steps.get(id) ?? [])].sort((a, b) => a.step - b.step) }))
      .filter(({ m }) => m.length > 0)
      .map(({ id, m }) => {
        const first = m[0] as StepMark;
        const last = m.at(-1) as StepMark;
        const startMs = first.endMs - first.stepMs;
        const startedMs = rec.started.get(id) ?? startMs;
        return { startedMs, startMs, endMs: last.endMs, busyMs: m.reduce((a, x) => a + x.stepMs, 0) };
      })
      .sort((a, b) => a.startMs - b.startMs);
    const gaps = runs.slice(1).map((r, i) => r.startMs - (runs[i]?.endMs ?? r.startMs));
    /** Each gap split at the next task's "started" event (clamped: it may be sent before the previous task's last step). */
    const handoffs = runs.slice(1).map((r, i) => Math.max(0, r.startedMs - (runs[i]?.endMs ?? r.startedMs)));
    const startups = runs.slice(1).map((r, i) => r.startMs - Math.max(r.startedMs, runs[i]?.endMs ?? r.startedMs));
    const wall = (runs.at(-1)?.endMs ?? 0) - (runs[0]?.startMs ?? 0);
    const busy = runs.reduce((a, r) => a + r.busyMs, 0) / Math.max(1, wall);
    return { gaps, handoffs, startups, busy };
  } finally {
    rec.stop();
  }
}

interface StageRow {
  label: string;
  e2eMs: number;
  denoiseMs: number;
  decodeMs: number;
  encodeMs: number;
  overheadMs: number;
  /** The overhead split by the record's own times: createTime -> startTime (queue and dispatch). */
  toStartMs: number;
  /** startTime -> finishTime less the three stages: hand-offs inside the pipeline (latents, jobs, records). */
  handoffMs: number;
  /** The rest: CreateTask's answer, and finishTime -> the bench seeing COMPLETED (20 ms polls). */
  edgesMs: number;
  steps: number;
}

/** One task at a time through the gateway: end to end, and each stage from the services' own histograms. */
async function stages(mesh: BenchMesh, sizes: Sizes): Promise<StageRow[]> {
  const client = videoClient(mesh.baseUrl, mesh.apiKey);
  const sums = async () => ({
    denoise: await metricSum(mesh.metricsUrl("inference"), "t2v_denoise_seconds_sum"),
    decode: await metricSum(mesh.metricsUrl("encoder"), "t2v_vae_decode_seconds_sum"),
    encode: await metricSum(mesh.metricsUrl("encoder"), "t2v_h264_encode_seconds_sum"),
  });
  const rows: StageRow[] = [];
  for (const resolution of sizes.stageResolutions)
    for (const duration of sizes.stageDurations) {
      const before = await sums();
      const t0 = Date.now();
      const task = await client.createTask({
        prompt: "a red kite over a beach",
        resolution,
        duration,
        frameRate: 16,
        seed: rows.length + 7,
      });
      const r = await waitRecord(mesh.channels, task.taskId, ended, 600_000, 20);
      const e2eMs = Date.now() - t0;
      if (r.task?.status !== TaskStatus.COMPLETED)
        throw new Error(`stage task ended ${TaskStatus[r.task?.status ?? 0]}: ${r.task?.errorMessage}`);
      // Histograms are exported on scrape; the encoder records its figures when it finishes, before the record is final.
      const after = await sums();
      const denoiseMs = (after.denoise - before.denoise) * 1000;
      const decodeMs = (after.decode - before.decode) * 1000;
      const encodeMs = (after.encode - before.encode) * 1000;
      const ms = (t: Parameters<typeof timestampMs>[0] | undefined): number => (t ? timestampMs(t) : Number.NaN);
      const toStartMs = ms(r.task?.startTime) - ms(r.task?.createTime);
      const pipelineMs = ms(r.task?.finishTime) - ms(r.task?.startTime);
      const handoffMs = pipelineMs - denoiseMs - decodeMs - encodeMs;
      rows.push({
        label: `${resolution} ${duration} s`,
        toStartMs,
        handoffMs,
        edgesMs: e2eMs - toStartMs - pipelineMs,
        e2eMs,
        denoiseMs,
        decodeMs,
        encodeMs,
        overheadMs: Math.max(0, e2eMs - denoiseMs - decodeMs - encodeMs),
        steps: r.task?.totalSteps ?? 0,
      });
    }
  return rows;
}

const OFF = { baselineName: "PIPELINE_NEXT_TASK=0 (pull after done)" };

/** The same backlog on a worker that pulls its next job only after one is done: the hand-off's baseline. */
async function idleGapWithoutPipelining(tasks: number) {
  const mesh = await startMesh(["scheduler", "inference", "encoder"], { POOLS: "standard", PIPELINE_NEXT_TASK: "0" });
  try {
    return await idleGap(mesh, tasks);
  } finally {
    await mesh.stop();
  }
}

export async function benchWorker(sizes: Sizes): Promise<BenchResult[]> {
  const mesh = await startMesh(["scheduler", "inference", "encoder", "gateway"], {
    ...UNLIMITED_ENV,
    POOLS: "standard",
  });
  try {
    const gap = await withLoad(() => idleGap(mesh, sizes.gapTasks));
    const st = await withLoad(() => stages(mesh, sizes));
    await mesh.stop();
    const off = await withLoad(() => idleGapWithoutPipelining(sizes.gapTasks));
    const gOff = summarize(off.value.gaps);
    const g = summarize(gap.value.gaps);
    const handoff = summarize(gap.value.handoffs);
    const startup = summarize(gap.value.startups);
    const GAP_REASON = gapReason(handoff.p50, startup.p50);
    const gapFigures: Figure[] = [
      figure({ name: "idle gap: hand-off before the next task's start p50", unit: "ms", value: handoff.p50 }),
      figure({ name: "idle gap: start to first step p50", unit: "ms", value: startup.p50 }),
      absolute(
        { name: "idle gap between tasks p50", unit: "ms", value: g.p50, ...OFF, baseline: gOff.p50 },
        "<=",
        50,
        GAP_REASON,
      ),
      absolute(
        { name: "idle gap between tasks p90", unit: "ms", value: g.p90, ...OFF, baseline: gOff.p90 },
        "<=",
        50,
        GAP_REASON,
      ),
      absolute(
        {
          name: "worker busy (denoising) share of the denoise wall",
          unit: "%",
          value: round2(gap.value.busy * 100),
          ...OFF,
          baseline: round2(off.value.busy * 100),
        },
        ">=",
        98,
        GAP_REASON,
      ),
    ];
    const rows = st.value;
    const stageFigures: Figure[] = rows.flatMap((r) => {
      const frac = r.overheadMs / Math.max(1, r.e2eMs);
      const projected = r.overheadMs / (r.overheadMs + WAN_STEPS * WAN_STEP_S * 1000 + r.decodeMs + r.encodeMs);
      return [
        figure({ name: `${r.label}: end to end`, unit: "ms", value: Math.round(r.e2eMs) }),
        figure({
          name: `${r.label}: denoise (${r.steps} steps, text encoding included)`,
          unit: "ms",
          value: Math.round(r.denoiseMs),
        }),
        figure({ name: `${r.label}: VAE decode`, unit: "ms", value: Math.round(r.decodeMs) }),
        figure({ name: `${r.label}: H.264 encode after the last frame`, unit: "ms", value: Math.round(r.encodeMs) }),
        figure({ name: `${r.label}: orchestration overhead`, unit: "ms", value: Math.round(r.overheadMs) }),
        figure({
          name: `${r.label}: overhead part: createTime -> startTime (queue, dispatch)`,
          unit: "ms",
          value: Math.round(r.toStartMs),
        }),
        figure({
          name: `${r.label}: overhead part: startTime -> finishTime less the stages (hand-offs)`,
          unit: "ms",
          value: Math.round(r.handoffMs),
        }),
        figure({
          name: `${r.label}: overhead part: CreateTask answer, and finishTime -> COMPLETED seen by the client`,
          unit: "ms",
          value: Math.round(r.edgesMs),
        }),
        figure({ name: `${r.label}: overhead share, reference model`, unit: "%", value: round2(frac * 100) }),
        figure({
          name: `${r.label}: overhead share projected onto Wan2.2 (${WAN_STEPS} x ${WAN_STEP_S} s steps)`,
          unit: "%",
          value: Math.round(projected * 1e4) / 100,
        }),
      ];
    });
    return [
      {
        name: "idle-gap",
        title: "Worker idle gap under backlog",
        method: `${sizes.gapTasks} 17-frame 480p tasks queued at once for one worker; gaps from one task's last step to the next one's first step start, from the worker's step events; then the same on a fresh mesh whose worker pulls only after a job is done (PIPELINE_NEXT_TASK=0), the baseline.`,
        load: { start: gap.load.start, end: off.load.end },
        figures: gapFigures,
        distributions: { gapMs: g, gapMsWithoutPipelining: gOff },
        notes: [],
        charts: [],
      },
      {
        name: "stages",
        title: "Per-stage time of a task (reference model, CPU) and orchestration overhead",
        method: `One task at a time through CreateTask on gRPC, waited to COMPLETED on the record; stage times are deltas of t2v_denoise_seconds, t2v_vae_decode_seconds and t2v_h264_encode_seconds; overhead = end to end - those. The projection assumes ${WAN_STEPS} steps of ${WAN_STEP_S} s (BENCH_WAN_STEPS, BENCH_WAN_STEP_S: an assumption for an H100-class GPU, not measured here; set them from your GPU's step time). The overhead is split by the record's createTime, startTime and finishTime.`,
        load: st.load,
        figures: stageFigures,
        notes:
          sizes.mode !== "full"
            ? [`${sizes.mode} mode: ${sizes.stageResolutions.join("/")} x ${sizes.stageDurations.join("/")} s only.`]
            : [],
        charts: [
          {
            file: "stages.svg",
            caption: "Where a task's time goes, per stage",
            svg: stackedBars(
              "Per-stage breakdown of one task",
              "ms",
              ["to start (queue, dispatch)", "denoise", "VAE decode", "H.264 encode", "hand-offs", "client edges"],
              rows.map((r) => ({
                label: r.label,
                values: [r.toStartMs, r.denoiseMs, r.decodeMs, r.encodeMs, r.handoffMs, r.edgesMs].map((v) =>
                  Math.max(0, v),
                ),
              })),
            ),
          },
          {
            file: "idle-gap.svg",
            caption: "Idle gaps between consecutive tasks on one worker",
            svg: barChart(
              "Worker idle gap between tasks",
              "ms",
              ["gap"],
              gap.value.gaps.map((x, i) => ({ label: `${i + 1}`, values: [x] })),
            ),
          },
        ],
      },
    ];
  } finally {
    await mesh.stop();
  }
}
