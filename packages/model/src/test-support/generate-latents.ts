import type { GenerateHooks, GenerationSpec, Generator, Latents } from "../api-types.js";

/** Runs a generation that is expected to finish (no preempt) and returns its latents. */
export async function generateLatents(g: Generator, spec: GenerationSpec, hooks?: GenerateHooks): Promise<Latents> {
  const r = await g.generate(spec, hooks);
  if (r.kind !== "done") throw new Error(`generation yielded at step ${r.checkpoint.step} instead of finishing`);
  return r.latents;
}
