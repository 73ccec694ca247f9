import type { CheckpointPolicy } from "../api-types.js";

/**
 * Decides, at each step boundary, whether a checkpoint is due. Step cadence counts from step 0
 * of the clip (so a resumed run checkpoints at the same steps); time cadence counts active
 * denoise seconds (ActiveTimer) since the last checkpoint or the start of this run. Never after
 * the last step.
 */
export class CheckpointSchedule {
  private lastAt = 0;

  constructor(
    private readonly policy: CheckpointPolicy | undefined,
    private readonly totalSteps: number,
  ) {}

  /** `completed` steps are done after `now` active seconds of this run. */
  due(completed: number, now: number): boolean {
    const p = this.policy;
    if (p === undefined || completed >= this.totalSteps) return false;
    const bySteps = p.steps !== undefined && p.steps > 0 && completed % p.steps === 0;
    const bySeconds = p.seconds !== undefined && p.seconds >= 0 && now - this.lastAt >= p.seconds;
    if (!bySteps && !bySeconds) return false;
    this.lastAt = now;
    return true;
  }
}
