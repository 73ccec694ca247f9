import type { DenoiserExpert, SamplerSpec } from "../manifest.js";

/**
 * Flow-matching sigmas for `steps` Euler steps: uniform t from 1 to 0, warped by the shift
 * (sigma = s t / (1 + (s - 1) t)) as in Wan's FlowUniPC/FlowDPM schedulers. Length steps + 1, last is 0.
 */
export function flowSigmas(steps: number, shift: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => {
    const t = 1 - i / steps;
    return (shift * t) / (1 + (shift - 1) * t);
  });
}

/** The expert whose [minTimestep, maxTimestep) range holds the timestep (the top expert also holds its max). */
export function selectExpert(experts: DenoiserExpert[], timestep: number, sampler: SamplerSpec): DenoiserExpert {
  const found = experts.find(
    (e) =>
      timestep >= e.minTimestep &&
      (timestep < e.maxTimestep || (e.maxTimestep === sampler.numTrainTimesteps && timestep <= e.maxTimestep)),
  );
  if (found === undefined) throw new Error(`no denoiser expert serves timestep ${timestep}`);
  return found;
}
