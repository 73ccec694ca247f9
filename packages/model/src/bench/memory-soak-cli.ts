// Manual benchmark: node --expose-gc packages/model/dist/bench/memory-soak-cli.js [tasks] [steps] [--json]
// `tasks` (default 100) back-to-back 17-frame 480p generations on a freshly built wan-tiny; prints
// memory every tenth of the run. With --expose-gc both threads collect garbage before each
// sample, so the numbers are live memory rather than garbage V8 has not collected yet.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildReferenceModel } from "../reference/build-reference-model.js";
import { startGenerator } from "../runtime/start-generator.js";
import { formatSamples, rssGrowth, runMemorySoak } from "./memory-soak.js";

const args = process.argv.slice(2).filter((a) => a !== "--json");
const json = process.argv.includes("--json");
const tasks = Number(args[0] ?? 100);
const steps = args[1] === undefined ? undefined : Number(args[1]);
const dir = await mkdtemp(join(tmpdir(), "wan-tiny-soak-"));
await buildReferenceModel(dir);
const generator = await startGenerator({ modelDir: dir, executionProviders: ["cuda", "cpu"] });
const started = performance.now();
const samples = await runMemorySoak(generator, {
  tasks,
  sampleEvery: Math.max(1, Math.floor(tasks / 10)),
  spec: {
    prompt: "a paper boat drifting down a rainy street",
    negativePrompt: "blurry",
    width: 832,
    height: 480,
    numFrames: 17,
    frameRate: 16,
    seed: 0,
    ...(steps !== undefined ? { steps } : {}),
  },
});
const seconds = (performance.now() - started) / 1000;
await generator.close();
await rm(dir, { recursive: true, force: true });
if (json) {
  console.log(JSON.stringify({ tasks, seconds, provider: generator.info.executionProvider, samples }));
} else {
  console.log(`${tasks} tasks in ${seconds.toFixed(1)} s on ${generator.info.executionProvider}`);
  console.log(formatSamples(samples));
  console.log(`RSS growth first -> last sample: ${(rssGrowth(samples) * 100).toFixed(1)} %`);
}
