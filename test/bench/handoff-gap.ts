// Benchmark: node test/dist/bench/handoff-gap.js [tasks=12] [rounds=2]
// Runs `tasks` consecutive 17-frame 480p tasks through a real nats-server, scheduler, inference
// worker and encoder, once with PIPELINE_NEXT_TASK=1 and once with 0 per round (alternating, so
// machine load hits both alike), and reports the hand-off gap: from one task's last denoising
// step to the start of the next task's first step, from the worker's own step events.
import { fromBinary } from "@bufbuild/protobuf";
import { EVENTS_CONSUMER } from "@t2v/common/channels";
import { WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { startMesh } from "../support/mesh.js";

interface StepMark {
  /** Worker clock, ms: when the step's event was stamped (just after the step ended). */
  endMs: number;
  stepMs: number;
  step: number;
  totalSteps: number;
}

interface RunResult {
  gapsMs: number[];
  /** First step start of the first task to the last step end of the last one. */
  denoiseWallS: number;
}

const tasks = Number(process.argv[2] ?? 12);
const rounds = Number(process.argv[3] ?? 2);

async function runOnce(pipeline: boolean): Promise<RunResult> {
  const mesh = await startMesh({
    env: { PIPELINE_NEXT_TASK: pipeline ? "1" : "0" },
    services: ["scheduler", "inference", "encoder"],
  });
  const direct = mesh.direct;
  const steps = new Map<string, StepMark[]>();
  // A plain subscription to the events' subjects sees every worker event as it
  // is published (the stream keeps its copy for the scheduler).
  const sub = mesh.channels.bus.subscribe(EVENTS_CONSUMER.filter, (data) => {
    const ev = fromBinary(WorkerEventSchema, data);
    if (ev.event.case !== "step" || ev.time === undefined) return;
    const marks = steps.get(ev.taskId) ?? [];
    marks.push({
      endMs: Number(ev.time.seconds) * 1000 + ev.time.nanos / 1e6,
      stepMs: ev.event.value.stepSeconds * 1000,
      step: ev.event.value.step,
      totalSteps: ev.event.value.totalSteps,
    });
    steps.set(ev.taskId, marks);
  });
  try {
    const ids: string[] = [];
    for (let i = 0; i < tasks; i++)
      ids.push(
        await direct.submit({ tenant: "bench", numFrames: 17, frameRate: 16, prompt: `hand-off ${i}`, seed: i + 1 }),
      );
    for (const id of ids) {
      const r = await direct.waitForEnd(id, 180_000);
      if (r.task?.status !== TaskStatus.COMPLETED) throw new Error(`task ${id} ended ${r.task?.errorMessage}`);
    }
    // Order by when denoising began: the scheduler, not submission order, decides who runs next.
    const runs = ids
      .map((id) => steps.get(id) ?? [])
      .map((m) => [...m].sort((a, b) => a.step - b.step))
      .filter((m) => m.length > 0)
      .map((m) => {
        const first = m[0] as StepMark;
        const last = m.at(-1) as StepMark;
        return { startMs: first.endMs - first.stepMs, endMs: last.endMs };
      })
      .sort((a, b) => a.startMs - b.startMs);
    const gapsMs = runs.slice(1).map((r, i) => r.startMs - (runs[i]?.endMs ?? r.startMs));
    const wall = ((runs.at(-1)?.endMs ?? 0) - (runs[0]?.startMs ?? 0)) / 1000;
    return { gapsMs, denoiseWallS: wall };
  } finally {
    sub.unsubscribe();
    await mesh.stop();
  }
}

function stats(xs: number[]): { median: number; mean: number; p90: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { median: at(0.5), mean: s.reduce((a, b) => a + b, 0) / s.length, p90: at(0.9), max: s.at(-1) ?? Number.NaN };
}

const results = {
  on: { gaps: [] as number[], wall: [] as number[] },
  off: { gaps: [] as number[], wall: [] as number[] },
};
for (let r = 0; r < rounds; r++) {
  for (const pipeline of r % 2 === 0 ? [true, false] : [false, true]) {
    const res = await runOnce(pipeline);
    const bucket = pipeline ? results.on : results.off;
    bucket.gaps.push(...res.gapsMs);
    bucket.wall.push(res.denoiseWallS);
    console.error(
      `round ${r + 1} pipeline ${pipeline ? "on" : "off"}: ${res.gapsMs.map((g) => g.toFixed(0)).join(" ")} ms`,
    );
  }
}
const on = stats(results.on.gaps);
const off = stats(results.off.gaps);
const wall = (xs: number[]): string => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
console.log(`${tasks} tasks x ${rounds} rounds per mode, 17 frames 480p @16 fps, 10 steps, cpu`);
console.log("| PIPELINE_NEXT_TASK | gaps | median ms | mean ms | p90 ms | max ms | denoise wall s (mean per run) |");
console.log("|---|---|---|---|---|---|---|");
for (const [name, s, b] of [
  ["1 (hold + prepare next)", on, results.on],
  ["0 (pull after done)", off, results.off],
] as const)
  console.log(
    `| ${name} | ${b.gaps.length} | ${s.median.toFixed(1)} | ${s.mean.toFixed(1)} | ${s.p90.toFixed(1)} | ${s.max.toFixed(1)} | ${wall(b.wall)} |`,
  );
console.log(
  `median gap ratio off/on: ${(off.median / on.median).toFixed(1)}x; mean: ${(off.mean / on.mean).toFixed(1)}x`,
);
