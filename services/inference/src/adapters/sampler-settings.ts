import { validateModelPackage } from "@t2v/model";

/** What a task's effective request reports about the sampler, as the model package declares it. */
export interface SamplerSettings {
  /** Classifier-free guidance of the high-noise expert (the first steps), else the sampler's. */
  guidanceScale: number;
  /** Flow-matching sigma shift. */
  shift: number;
  /** Timestep (0..numTrainTimesteps) where the high-noise expert hands over to the low-noise one. */
  expertBoundary: number;
}

/** Reads the manifest of the package the engine loaded (read-only; the engine keeps its own copy). */
export async function readSamplerSettings(modelDir: string): Promise<SamplerSettings> {
  const m = await validateModelPackage(modelDir);
  const high = [...m.components.denoisers].sort((a, b) => b.maxTimestep - a.maxTimestep)[0];
  return {
    guidanceScale: high?.guidanceScale ?? m.sampler.guidanceScale,
    shift: m.sampler.shift,
    expertBoundary: m.sampler.boundaryTimestep,
  };
}
