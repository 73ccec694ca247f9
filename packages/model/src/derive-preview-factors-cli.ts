// node packages/model/dist/derive-preview-factors-cli.js
// Builds wan-tiny into a temp dir, denoises a few clips, fits the preview projection to what the
// VAE decoder makes of them and prints it as JSON (paste into wan-tiny-config.ts `preview`).
import type { GenerationSpec } from "./api-types.js";
import { derivePreviewFactors } from "./reference/derive-preview-factors.js";
import { WAN_TINY } from "./reference/wan-tiny-config.js";
import { startDecoder } from "./runtime/start-decoder.js";
import { startGenerator } from "./runtime/start-generator.js";
import { generateLatents } from "./test-support/generate-latents.js";
import { buildTempModel } from "./test-support/temp-model.js";

const prompts = [
  "a paper boat drifting down a rainy street",
  "a red fox running through snow",
  "city lights at night seen from a plane",
  "waves breaking on black volcanic sand",
];

const model = await buildTempModel();
const opts = { modelDir: model.dir, executionProviders: ["cpu"] };
const [generator, decoder] = await Promise.all([startGenerator(opts), startDecoder(opts)]);
try {
  const clips = [];
  for (const [i, prompt] of prompts.entries()) {
    const spec: GenerationSpec = {
      prompt,
      negativePrompt: "blurry, low quality",
      width: 832,
      height: 480,
      numFrames: 33,
      frameRate: 16,
      seed: 100 + i,
    };
    clips.push({ latents: await generateLatents(generator, spec), width: spec.width, height: spec.height });
  }
  const fit = await derivePreviewFactors(decoder, clips, WAN_TINY.vae.lowPass);
  process.stdout.write(`${JSON.stringify(fit)}\n`);
} finally {
  await generator.close();
  await decoder.close();
  await model.cleanup();
}
