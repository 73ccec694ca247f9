/**
 * Accelerator seconds of a task, before it runs:
 *
 *   estimated_gpu_seconds = secondsPerUnit(pool) x width x height x frames x steps
 *
 * where secondsPerUnit is the pool's measured mean of gpu_seconds / (width x
 * height x frames x steps) over its completed tasks (an exponentially weighted
 * mean, as for run times). Denoising dominates and scales with all four;
 * decoding scales with pixels x frames and is folded in. Until a task has
 * completed in the pool, a 720p, 5 s, 24 fps clip at the model's default steps
 * is assumed to take DEFAULT_RUN_SECONDS. Steps 0 mean the model's default (a
 * quarter of it for a draft), as workers last reported it. Pure.
 */
export interface TaskSizeInput {
  width: number;
  height: number;
  numFrames: number;
  /** 0: the model's default. */
  steps: number;
  draft: boolean;
}

/** The size assumed to take DEFAULT_RUN_SECONDS before anything is measured. */
export const REFERENCE_SIZE = { width: 1280, height: 720, numFrames: 120 } as const;

/** Steps assumed for the model's default until a worker has reported it. */
export const ASSUMED_DEFAULT_STEPS = 30;

/** A draft's share of the model's default steps (the worker's rule too). */
export function draftSteps(defaultSteps: number): number {
  return Math.max(1, Math.round(defaultSteps / 4));
}

export function effectiveSteps(size: Pick<TaskSizeInput, "steps" | "draft">, defaultSteps: number): number {
  if (size.steps > 0) return size.steps;
  return size.draft ? draftSteps(defaultSteps) : defaultSteps;
}

/** Width x height x frames x steps: what accelerator time scales with. */
export function workUnits(size: TaskSizeInput, defaultSteps: number): number {
  return size.width * size.height * size.numFrames * effectiveSteps(size, defaultSteps);
}

export function estimateGpuSeconds(
  size: TaskSizeInput,
  calibration: { secondsPerUnit: number | undefined; defaultSteps: number | undefined; defaultRunSeconds: number },
): number {
  const defaultSteps = calibration.defaultSteps ?? ASSUMED_DEFAULT_STEPS;
  const perUnit =
    calibration.secondsPerUnit ??
    calibration.defaultRunSeconds / workUnits({ ...REFERENCE_SIZE, steps: 0, draft: false }, defaultSteps);
  const seconds = perUnit * workUnits(size, defaultSteps);
  // Milliseconds are plenty for an estimate.
  return Number.isFinite(seconds) ? Math.round(seconds * 1000) / 1000 : 0;
}
