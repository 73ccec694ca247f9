/**
 * Dispatch latency: from the submission being acknowledged by JetStream to the
 * first denoising step on an idle worker, through the scheduler, against a raw
 * baseline that publishes the job straight to the worker's consumer. Measured
 * with an empty queue and with 10,000 tasks queued for another pool.
 *
 *   node test/dist/bench/dispatch-latency.js [probes=10] [queued=10000]
 */
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Channels } from "@t2v/common/channels";
import { GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { DirectTasks } from "../support/direct-tasks.js";
import { startMesh } from "../support/mesh.js";

const PROBES = Number(process.argv[2] ?? 10);
const QUEUED = Number(process.argv[3] ?? 10_000);
const PROBE = { tenant: "probe", pool: "vip", numFrames: 17, frameRate: 16 } as const;

/** Milliseconds from `t0` (epoch ms) to the record showing the first step. */
async function firstStepMs(direct: DirectTasks, taskId: string, t0: number): Promise<number> {
  const r = await direct.waitFor(taskId, (x) => (x.task?.currentStep ?? 0) >= 1, 60_000);
  const at = r.task?.updateTime ? timestampMs(r.task.updateTime) : Date.now();
  await direct.waitForEnd(taskId, 60_000);
  return at - t0;
}

async function viaScheduler(direct: DirectTasks): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const id = await direct.submit(PROBE);
    // "Submit acknowledged": the record is written and JetStream has the submission.
    out.push(await firstStepMs(direct, id, Date.now()));
  }
  return out;
}

/** The same work, with the job published straight to the VIP group's consumer. */
async function raw(direct: DirectTasks, ch: Channels): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    // A record the worker accepts, marked dispatched so the scheduler leaves it alone.
    const id = await direct.submit({ ...PROBE, tenant: "raw", pool: "batch" });
    await ch.tasks.update(id, (r) => {
      const next = { ...r, dispatchedAttempt: 1, dispatchedGroup: "vip" };
      return next as typeof r;
    });
    const r = await direct.get(id);
    const p = r.task?.params;
    const job = create(GenerateJobSchema, {
      taskId: id,
      attempt: 1,
      spec: {
        prompt: p?.prompt,
        negativePrompt: p?.negativePrompt,
        width: p?.width,
        height: p?.height,
        numFrames: p?.numFrames,
        frameRate: p?.frameRate,
        seed: p?.seed,
      },
    });
    const t0 = Date.now();
    await ch.generateJobs.publish(job, "vip");
    out.push(await firstStepMs(direct, id, t0));
  }
  return out;
}

function stats(xs: number[]): { p50: number; p95: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

const mesh = await startMesh({
  env: { POOLS: "vip", INTRA_OP_THREADS: "1", X264_THREADS: "1" },
  services: ["scheduler", "inference", "encoder"],
});
const direct = mesh.direct;
try {
  // Warm up the worker (first-run allocations) before measuring.
  await firstStepMs(direct, await direct.submit(PROBE), Date.now());
  const rows: [string, number[]][] = [];
  rows.push(["raw publish to the worker (baseline), empty queue", await raw(direct, mesh.channels)]);
  rows.push(["through the scheduler, empty queue", await viaScheduler(direct)]);

  const t = Date.now();
  for (let i = 0; i < QUEUED; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, QUEUED - i) }, (_, k) =>
        direct.submit({ tenant: `bulk-${(i + k) % 50}`, pool: "standard", numFrames: 17, frameRate: 16 }),
      ),
    );
  }
  const submitS = (Date.now() - t) / 1000;
  // Wait until the scheduler holds them all (the last one has a queue position).
  const lastIds = await mesh.channels.tasks.ids();
  const last = lastIds.sort().at(-1) ?? "";
  while ((await direct.estimates([last])).length === 0) await new Promise((r) => setTimeout(r, 500));
  const ingestS = (Date.now() - t) / 1000;
  rows.push([`raw publish to the worker (baseline), ${QUEUED} queued`, await raw(direct, mesh.channels)]);
  rows.push([`through the scheduler, ${QUEUED} queued`, await viaScheduler(direct)]);

  const base = stats(rows[0]?.[1] ?? []).p50;
  console.log(`\nDispatch latency, submit acknowledged -> first denoise step (${PROBES} probes each, ms)\n`);
  console.log("| path | p50 | p95 | mean | p50 / baseline p50 |");
  console.log("|---|---|---|---|---|");
  for (const [name, xs] of rows) {
    const s = stats(xs);
    console.log(`| ${name} | ${s.p50} | ${s.p95} | ${s.mean.toFixed(0)} | ${(s.p50 / base).toFixed(2)} |`);
  }
  console.log(
    `\n${QUEUED} submissions took ${submitS.toFixed(1)} s; all queued in the scheduler after ${ingestS.toFixed(1)} s.`,
  );
} finally {
  await mesh.stop();
}
