import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import jpeg from "jpeg-js";
import type { Decoder, GenerationSpec, Generator, Preview } from "../api-types.js";
import { Prng } from "../onnx/prng.js";
import { referenceManifest } from "../reference/build-reference-model.js";
import { generateLatents } from "../test-support/generate-latents.js";
import { buildTempModel } from "../test-support/temp-model.js";
import { fallbackProjection, latentPreview, type PreviewProjection, previewFrameIndex } from "./latent-preview.js";
import { encodePreviewJpeg, PREVIEW_MAX_BYTES } from "./preview-jpeg.js";
import { startDecoder } from "./start-decoder.js";
import { startGenerator } from "./start-generator.js";

let model: { dir: string; cleanup: () => Promise<void> };
let generator: Generator;
let decoder: Decoder;

before(async () => {
  model = await buildTempModel();
  [generator, decoder] = await Promise.all([
    startGenerator({ modelDir: model.dir, executionProviders: ["cpu"] }),
    startDecoder({ modelDir: model.dir, executionProviders: ["cpu"] }),
  ]);
});

after(async () => {
  await generator?.close();
  await decoder?.close();
  await model?.cleanup();
});

const spec: GenerationSpec = {
  prompt: "a lighthouse at dusk",
  negativePrompt: "blurry",
  width: 832,
  height: 480,
  numFrames: 17,
  frameRate: 16,
  seed: 5,
  steps: 6,
};

function checkJpeg(bytes: Uint8Array, p: Preview): void {
  assert.ok(bytes.byteLength <= PREVIEW_MAX_BYTES, `${bytes.byteLength} bytes`);
  assert.deepEqual([bytes[0], bytes[1]], [0xff, 0xd8], "starts with SOI");
  assert.deepEqual([bytes.at(-2), bytes.at(-1)], [0xff, 0xd9], "ends with EOI");
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  assert.equal(img.width, p.width);
  assert.equal(img.height, p.height);
  let diff = 0;
  for (let i = 0; i < p.rgb.length; i++) diff += Math.abs((img.data[i] ?? 0) - (p.rgb[i] ?? 0));
  assert.ok(diff / p.rgb.length < 6, `decoded JPEG is close to the preview (mean abs ${diff / p.rgb.length})`);
}

test("previews arrive at the asked cadence only, as small valid JPEGs, and do not change the latents", async () => {
  const previews: Preview[] = [];
  const withPreviews = await generateLatents(generator, spec, { previewEvery: 2, onPreview: (p) => previews.push(p) });
  assert.deepEqual(
    previews.map((p) => p.step),
    [2, 4, 6],
  );
  for (const p of previews) {
    assert.equal(p.totalSteps, 6);
    assert.deepEqual([p.width, p.height], [208, 120], "52x30 latents, 4x up to at most 256 px");
    assert.equal(p.rgb.byteLength, 208 * 120 * 3);
    checkJpeg(encodePreviewJpeg(p), p);
  }
  const none: Preview[] = [];
  const without = await generateLatents(generator, spec, { onPreview: (p) => none.push(p) });
  assert.equal(none.length, 0, "no previews unless previewEvery is set");
  assert.deepEqual(without.data, withPreviews.data);
});

test("the preview at the last step looks like the decoded middle frame", async (t) => {
  const previews: Preview[] = [];
  const latents = await generateLatents(
    generator,
    { ...spec, steps: 10 },
    { previewEvery: 10, onPreview: (p) => previews.push(p) },
  );
  const p = previews[0];
  assert.ok(p !== undefined);
  const shape = { channels: 16, frames: 5, height: 30, width: 52 };
  const middle = previewFrameIndex(shape);
  const frames: Uint8Array[] = [];
  await decoder.decode(latents, { width: 832, height: 480, numFrames: 17 }, (rgb, n) => {
    for (let k = 0; k < n; k++) frames.push(rgb.slice(k * 832 * 480 * 3, (k + 1) * 832 * 480 * 3));
  });
  // Latent frame f > 0 ends its group of four decoded frames: video frame 4f.
  const decoded = frames[4 * middle];
  assert.ok(decoded !== undefined);
  const error = (img: Uint8Array): number => blockError(img, decoded);
  const fitted = error(p.rgb);
  // The same latents through the package-less fallback projection, for scale.
  const hw = 30 * 52;
  const frame = new Float32Array(16 * hw);
  for (let c = 0; c < 16; c++)
    frame.set(latents.data.subarray((c * 5 + middle) * hw, (c * 5 + middle + 1) * hw), c * hw);
  const fallback = error(latentPreview(frame, shape, fallbackProjection(16)).rgb);
  t.diagnostic(`block error: fitted ${fitted.toFixed(1)}, fallback ${fallback.toFixed(1)} levels`);
  assert.ok(fitted < 16, `fitted projection: mean abs error ${fitted.toFixed(1)} levels on 16x16-pixel blocks`);
  assert.ok(fitted < fallback / 2, `fitted ${fitted.toFixed(1)} vs fallback ${fallback.toFixed(1)}`);
});

/** Mean absolute error between a 208x120 preview and an 832x480 frame, both averaged over 16-pixel (frame) blocks. */
function blockError(preview: Uint8Array, frame: Uint8Array): number {
  let total = 0;
  let count = 0;
  for (let by = 0; by < 30; by++) {
    for (let bx = 0; bx < 52; bx++) {
      for (let k = 0; k < 3; k++) {
        let a = 0;
        for (let y = 0; y < 4; y++)
          for (let x = 0; x < 4; x++) a += preview[((by * 4 + y) * 208 + bx * 4 + x) * 3 + k] ?? 0;
        let b = 0;
        for (let y = 0; y < 16; y++)
          for (let x = 0; x < 16; x++) b += frame[((by * 16 + y) * 832 + bx * 16 + x) * 3 + k] ?? 0;
        total += Math.abs(a / 16 - b / 256);
        count += 1;
      }
    }
  }
  return total / count;
}

test("preview sizes: 720p is 240x135, portrait keeps its longer side under 256 px; noise still fits 64 KB", () => {
  const m = referenceManifest();
  const p = m.preview;
  assert.ok(p !== undefined);
  const projection: PreviewProjection = {
    factors: p.latentRgbFactors,
    bias: p.latentRgbBias,
    activation: "sigmoid",
    smoothing: p.smoothing ?? [],
  };
  const wide = latentPreview(new Float32Array(16 * 45 * 80), { channels: 16, height: 45, width: 80 }, projection);
  assert.deepEqual([wide.width, wide.height], [240, 135]);
  const tall = latentPreview(new Float32Array(16 * 52 * 30), { channels: 16, height: 52, width: 30 }, projection);
  assert.deepEqual([tall.width, tall.height], [120, 208]);
  // Worst case for JPEG: full-resolution noise. The quality steps down until it fits.
  const rng = new Prng(1);
  const noise: Preview = {
    step: 1,
    totalSteps: 1,
    width: 256,
    height: 256,
    rgb: Uint8Array.from({ length: 256 * 256 * 3 }, () => rng.nextUint32() & 255),
  };
  const bytes = encodePreviewJpeg(noise);
  assert.ok(bytes.byteLength <= PREVIEW_MAX_BYTES);
  assert.deepEqual([bytes[0], bytes[1], bytes.at(-2), bytes.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
  assert.throws(() => encodePreviewJpeg(noise, 2000), RangeError);
});
