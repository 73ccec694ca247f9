import type { GenerationSpec, Generator } from "../api-types.js";
import { collectGarbage } from "../runtime/collect-garbage.js";

export interface MemorySample {
  /** Tasks finished when the sample was taken. */
  tasks: number;
  /** Whole process (main thread, engine worker, onnxruntime arenas). */
  rssMb: number;
  mainHeapMb: number;
  /** Main thread's external + ArrayBuffer memory (latents arrive there). */
  mainExternalMb: number;
  workerHeapMb: number;
  /** Worker's external + ArrayBuffer memory (latents and tensors live there). */
  workerExternalMb: number;
}

export interface SoakOptions {
  tasks: number;
  sampleEvery: number;
  spec: GenerationSpec;
}

const MB = 1024 * 1024;

/**
 * Runs `tasks` generations back to back the way the inference worker does (a different prompt
 * and seed each time, the next prompt prepared while the current one denoises) and samples
 * memory every `sampleEvery` tasks. A leak per task shows up as a slope across the samples.
 */
export async function runMemorySoak(generator: Generator, opts: SoakOptions): Promise<MemorySample[]> {
  const samples: MemorySample[] = [];
  const specFor = (i: number): GenerationSpec => ({ ...opts.spec, prompt: `${opts.spec.prompt} #${i}`, seed: i });
  for (let i = 0; i < opts.tasks; i++) {
    const next = specFor(i + 1);
    let prepared: Promise<void> | undefined;
    await generator.generate(specFor(i), {
      onStep: (r) => {
        if (r.step === 1) prepared = generator.prepare(next);
      },
    });
    await prepared;
    if ((i + 1) % opts.sampleEvery === 0) samples.push(await sample(generator, i + 1));
  }
  return samples;
}

async function sample(generator: Generator, tasks: number): Promise<MemorySample> {
  collectGarbage();
  const worker = await generator.memoryUsage();
  const main = process.memoryUsage();
  return {
    tasks,
    rssMb: main.rss / MB,
    mainHeapMb: main.heapUsed / MB,
    mainExternalMb: (main.external + main.arrayBuffers) / MB,
    workerHeapMb: worker.heapUsed / MB,
    workerExternalMb: (worker.external + worker.arrayBuffers) / MB,
  };
}

/** Growth of the last sample over the first (after warm-up), as a fraction: 0.05 = 5 %. */
export function rssGrowth(samples: MemorySample[]): number {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined) return 0;
  return (last.rssMb - first.rssMb) / first.rssMb;
}

/** JavaScript memory both threads hold (heaps, external and ArrayBuffer memory), in MB. */
export function liveJsMb(s: MemorySample): number {
  return s.mainHeapMb + s.mainExternalMb + s.workerHeapMb + s.workerExternalMb;
}

export function formatSamples(samples: MemorySample[]): string {
  const rows = samples.map(
    (s) =>
      `| ${s.tasks} | ${s.rssMb.toFixed(0)} | ${s.mainHeapMb.toFixed(1)} | ${s.mainExternalMb.toFixed(1)} | ${s.workerHeapMb.toFixed(1)} | ${s.workerExternalMb.toFixed(1)} |`,
  );
  return [
    "| tasks done | process RSS MB | main heap MB | main external+buffers MB | worker heap MB | worker external+buffers MB |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
