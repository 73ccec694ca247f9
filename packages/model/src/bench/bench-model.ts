// Manual benchmark: node packages/model/dist/bench/bench-model.js [modelDir]
// Builds wan-tiny (into a temp dir unless a dir is given), then times text encoding, per-step
// denoising and chunked decoding for 480p/720p at 3/5/10 s, and prints a Markdown table.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { GenerationSpec } from "../api-types.js";
import { readManifest } from "../load-model-package.js";
import { buildReferenceModel } from "../reference/build-reference-model.js";
import { latentFrameCount } from "../runtime/spec-check.js";
import { startDecoder } from "../runtime/start-decoder.js";
import { startGenerator } from "../runtime/start-generator.js";
import { tokenizeBatch } from "../runtime/tokenizer.js";
import { generateLatents } from "../test-support/generate-latents.js";

interface Row {
  label: string;
  frames: number;
  latent: string;
  tokens: number;
  stepMs: number;
  denoiseS: number;
  decodeS: number;
  peakRssMb: number;
}

const FPS = 24;
const CASES: Array<{ name: string; width: number; height: number; seconds: number; fps: number }> = [
  { name: "480p", width: 832, height: 480, seconds: 3, fps: FPS },
  { name: "480p", width: 832, height: 480, seconds: 5, fps: FPS },
  { name: "480p", width: 832, height: 480, seconds: 10, fps: FPS },
  { name: "720p", width: 1280, height: 720, seconds: 3, fps: FPS },
  { name: "720p", width: 1280, height: 720, seconds: 5, fps: FPS },
  { name: "720p", width: 1280, height: 720, seconds: 10, fps: FPS },
  { name: "720p", width: 1280, height: 720, seconds: 10, fps: 30 },
];

async function main(): Promise<void> {
  const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), "wan-tiny-bench-")));
  if (process.argv[2] === undefined) await buildReferenceModel(dir);
  const manifest = await readManifest(dir);

  const textMs = await timeTextEncoder(join(dir, manifest.components.textEncoder.file), manifest.tokenizer);
  const opts = { modelDir: dir, executionProviders: ["cuda", "cpu"] };
  const started = performance.now();
  const [generator, decoder] = await Promise.all([startGenerator(opts), startDecoder(opts)]);
  const startupS = (performance.now() - started) / 1000;

  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const rows: Row[] = [];
  for (const c of CASES) {
    peak = 0;
    const numFrames = c.seconds * c.fps;
    const spec: GenerationSpec = {
      prompt: "a paper boat drifting down a rainy street",
      negativePrompt: "blurry, low quality",
      width: c.width,
      height: c.height,
      numFrames,
      frameRate: c.fps,
      seed: 1,
    };
    const stepTimes: number[] = [];
    const t0 = performance.now();
    const latents = await generateLatents(generator, spec, { onStep: (r) => stepTimes.push(r.stepSeconds) });
    const denoiseS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    let frames = 0;
    await decoder.decode(latents, { width: c.width, height: c.height, numFrames }, (_rgb, n) => {
      frames += n;
    });
    const decodeS = (performance.now() - t1) / 1000;
    const [, lf, lh, lw] = latents.dims as [number, number, number, number];
    const [, pt, ph, pw] = [0, ...manifest.latent.patchSize] as [number, number, number, number];
    rows.push({
      label: `${c.name} ${c.seconds} s @${c.fps}`,
      frames,
      latent: `${lf}x${lh}x${lw}`,
      tokens: Math.ceil(lf / pt) * Math.ceil(lh / ph) * Math.ceil(lw / pw),
      stepMs: median(stepTimes.slice(1)) * 1000,
      denoiseS,
      decodeS,
      peakRssMb: peak / 2 ** 20,
    });
    process.stderr.write(
      `done ${c.name} ${c.seconds}s@${c.fps} (${latentFrameCount(numFrames, manifest.latent.temporalCompression)} latent frames)\n`,
    );
  }
  clearInterval(sampler);
  await generator.close();
  await decoder.close();

  process.stdout.write(
    `model ${generator.info.name} ${generator.info.version}, provider ${generator.info.executionProvider}, ${manifest.sampler.defaultSteps} steps, CFG batch 2\n`,
  );
  process.stdout.write(
    `engine startup (load + validate + warm-up, both workers): ${startupS.toFixed(2)} s; text encoding (batch 2): ${textMs.toFixed(1)} ms\n\n`,
  );
  process.stdout.write(
    "| clip | frames | latent FxHxW | DiT tokens | step (median) | denoise total | decode | peak RSS |\n|---|---|---|---|---|---|---|---|\n",
  );
  for (const r of rows) {
    process.stdout.write(
      `| ${r.label} | ${r.frames} | ${r.latent} | ${r.tokens} | ${r.stepMs.toFixed(0)} ms | ${r.denoiseS.toFixed(2)} s | ${r.decodeS.toFixed(2)} s | ${r.peakRssMb.toFixed(0)} MB |\n`,
    );
  }
}

async function timeTextEncoder(path: string, tokenizer: Parameters<typeof tokenizeBatch>[1]): Promise<number> {
  const session = await ort.InferenceSession.create(path, { executionProviders: ["cpu"] });
  const t = tokenizeBatch(["a paper boat drifting down a rainy street", "blurry, low quality"], tokenizer);
  const feeds = {
    input_ids: new ort.Tensor("int64", t.ids, [t.batch, t.length]),
    attention_mask: new ort.Tensor("int64", t.mask, [t.batch, t.length]),
  };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = performance.now();
    await session.run(feeds);
    times.push(performance.now() - s);
  }
  await session.release();
  return median(times);
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

await main();
