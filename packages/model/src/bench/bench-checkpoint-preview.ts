// Manual benchmark: node packages/model/dist/bench/bench-checkpoint-preview.js [modelDir]
// What checkpoints and previews cost next to a denoising step, at 480p and 720p x 5 s @24 with
// wan-tiny: encode time and bytes of a checkpoint, the latent copy the engine makes for it,
// decode time, the preview's engine-side work (x0 of the middle frame, projection, upscale) and
// its JPEG encoding, plus the denoise wall time with both every step against none.
import { mkdtemp } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Checkpoint, GenerationSpec, Preview } from "../api-types.js";
import { readManifest } from "../load-model-package.js";
import { buildReferenceModel } from "../reference/build-reference-model.js";
import { decodeCheckpoint, encodeCheckpoint } from "../runtime/checkpoint-codec.js";
import { cleanEstimateFrame, latentPreview, previewFrameIndex } from "../runtime/latent-preview.js";
import { encodePreviewJpeg } from "../runtime/preview-jpeg.js";
import { resolveGenerationSpec } from "../runtime/spec-check.js";
import { startGenerator } from "../runtime/start-generator.js";

const CASES = [
  { name: "480p 5 s @24", width: 832, height: 480 },
  { name: "720p 5 s @24", width: 1280, height: 720 },
];

async function main(): Promise<void> {
  const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), "wan-tiny-bench-")));
  if (process.argv[2] === undefined) await buildReferenceModel(dir);
  const manifest = await readManifest(dir);
  const generator = await startGenerator({ modelDir: dir, executionProviders: ["cuda", "cpu"] });
  const lines: string[] = [];
  for (const c of CASES) {
    const spec: GenerationSpec = {
      prompt: "a paper boat drifting down a rainy street",
      negativePrompt: "blurry, low quality",
      width: c.width,
      height: c.height,
      numFrames: 120,
      frameRate: 24,
      seed: 1,
    };
    const plainSteps: number[] = [];
    const plain = await generator.generate(spec, { onStep: (r) => plainSteps.push(r.stepSeconds) });

    const checkpoints: Checkpoint[] = [];
    const previews: Preview[] = [];
    const withBothSteps: number[] = [];
    const withBoth = await generator.generate(spec, {
      onStep: (r) => withBothSteps.push(r.stepSeconds),
      checkpointEvery: { steps: 1 },
      onCheckpoint: (k) => void checkpoints.push(k),
      previewEvery: 1,
      onPreview: (p) => previews.push(p),
    });

    const checkpoint = checkpoints[Math.floor(checkpoints.length / 2)];
    const preview = previews[previews.length - 1];
    if (checkpoint === undefined || preview === undefined) throw new Error("no checkpoint or preview came back");
    const data = checkpoint.latents.data;
    const copyMs = timeMs(() => data.slice());
    let bytes = 0;
    const encodeMs = timeMs(() => {
      bytes = encodeCheckpoint(checkpoint).byteLength;
    });
    const blob = encodeCheckpoint(checkpoint);
    const decodeMs = timeMs(() => decodeCheckpoint(blob));

    // The engine's preview work, on arrays of the real sizes (same functions as in the worker).
    const { shape } = resolveGenerationSpec(spec, manifest);
    const velocity = new Float32Array(2 * data.length).fill(0.1);
    const p = manifest.preview;
    const projection = {
      factors: p?.latentRgbFactors ?? [],
      bias: p?.latentRgbBias ?? [],
      activation: p?.activation ?? "linear",
      smoothing: p?.smoothing ?? [],
    };
    const previewMs = timeMs(() =>
      latentPreview(cleanEstimateFrame(data, velocity, 3, 0.5, shape, previewFrameIndex(shape)), shape, projection),
    );
    let jpegBytes = 0;
    const jpegMs = timeMs(() => {
      jpegBytes = encodePreviewJpeg(preview).byteLength;
    });

    const stepMs = median(plainSteps.slice(1)) * 1000;
    const checkpointMs = copyMs + encodeMs;
    const everySteps = Math.ceil(checkpointMs / (0.01 * stepMs));
    lines.push(
      `| ${c.name} | ${shape.frames}x${shape.height}x${shape.width} | ${stepMs.toFixed(0)} ms | ` +
        `${(bytes / 2 ** 20).toFixed(2)} MiB | ${copyMs.toFixed(1)} ms | ${encodeMs.toFixed(1)} ms | ${decodeMs.toFixed(1)} ms | ` +
        `${((100 * checkpointMs) / stepMs).toFixed(1)} % | ${everySteps} steps / ${(checkpointMs / 10).toFixed(1)} s | ` +
        `${preview.width}x${preview.height} | ${previewMs.toFixed(2)} ms | ${jpegMs.toFixed(2)} ms, ${(jpegBytes / 1024).toFixed(1)} KiB | ` +
        `${((100 * (previewMs + jpegMs)) / stepMs).toFixed(1)} % | ` +
        `${plain.denoiseSeconds.toFixed(2)} s -> ${withBoth.denoiseSeconds.toFixed(2)} s (median step ${stepMs.toFixed(0)} -> ${(median(withBothSteps.slice(1)) * 1000).toFixed(0)} ms) |`,
    );
    process.stderr.write(`done ${c.name}\n`);
  }
  await generator.close();
  process.stdout.write(
    `model ${generator.info.name} ${generator.info.version}, provider ${generator.info.executionProvider}, ${manifest.sampler.defaultSteps} steps, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n\n`,
  );
  process.stdout.write(
    "| clip | latent FxHxW | step (median) | checkpoint bytes | latent copy (engine) | encode (incl. CRC) | decode | checkpoint / step | every N for <= 1 % | preview | preview (engine) | JPEG | preview / step | denoise, none -> both every step |\n" +
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** Fastest of 21 runs after one warm-up, in ms: on a shared 2-core box the minimum is the cost, the rest is waiting. */
function timeMs(f: () => unknown): number {
  f();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 21; i++) {
    const s = performance.now();
    f();
    best = Math.min(best, performance.now() - s);
  }
  return best;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

await main();
