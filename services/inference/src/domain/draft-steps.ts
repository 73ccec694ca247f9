/** A draft runs a quarter of the model's default steps, at least one (the scheduler estimates with the same rule). */
export function draftSteps(defaultSteps: number): number {
  return Math.max(1, Math.round(defaultSteps / 4));
}

/** The steps a job runs: the ones it asks for, else the model's default (a quarter of it for a draft). */
export function stepsFor(spec: { steps: number; draft: boolean }, defaultSteps: number): number {
  if (spec.steps > 0) return spec.steps;
  return spec.draft ? draftSteps(defaultSteps) : defaultSteps;
}
