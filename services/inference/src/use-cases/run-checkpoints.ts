import { type Context, context } from "@opentelemetry/api";
import { checkpointObjectName } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { type RetryOptions, retryWithBackoff } from "@t2v/common/process";
import { Attr, inSpan } from "@t2v/common/telemetry";
import {
  type Checkpoint,
  CheckpointMismatchError,
  checkpointKey,
  type GenerateHooks,
  type GenerateResult,
  type GenerationSpec,
  type ModelInfo,
  specHash,
} from "@t2v/model";
import type { CheckpointStore } from "../adapters/checkpoint-store.js";

/** How often a running denoise is checkpointed; both 0: never (a retry then starts from step 0). */
export interface CheckpointCadence {
  everySteps: number;
  everySeconds: number;
}

export interface RunCheckpointsDeps {
  store: CheckpointStore;
  cadence: CheckpointCadence;
  /** Steps a resumed run did not have to run again (told once it finished or yielded). */
  onResumed?(steps: number): void;
  /** A write failed (logged here; the task goes on). */
  onWriteFailed?(): void;
}

/** The checkpoints of one attempt's denoise. */
export interface RunCheckpoints {
  /** The checkpoint the run resumes from: steps done and in all; null: from step 0. */
  readonly resumed: { step: number; totalSteps: number } | null;
  /** Denoise seconds spent on this clip by the runs before this one (from the checkpoint resumed). */
  readonly priorSeconds: number;
  /**
   * `generate` from the newest checkpoint, writing new ones at the cadence. A checkpoint the
   * engine refuses (`CheckpointMismatchError`, before any work) is deleted and the run starts
   * from step 0; `onRestart` is told so the caller can correct its progress report.
   */
  generate(
    generator: { generate(spec: GenerationSpec, hooks: GenerateHooks): Promise<GenerateResult> },
    hooks: GenerateHooks,
    onRestart?: () => void,
  ): Promise<GenerateResult>;
  /** Writes the state a yielded run ended with (paused, preempted); resolves to its object name. */
  keep(checkpoint: Checkpoint): Promise<string>;
  /**
   * The latents are stored, or the task was cancelled: the checkpoint is not needed any more.
   * The delete waits out an outage (bounded by the retry's give-up time); one that never goes
   * through is logged and left to the store's TTL, never thrown: the task's work is done.
   */
  discard(): Promise<void>;
}

/**
 * Loads the newest checkpoint of this task's computation (the key hashes the effective spec and
 * the model name and version, so nothing else can match) and wires the cadence. A failed write
 * is logged and never fails the task: the next checkpoint supersedes it, and a retry resumes
 * from the last one that was written.
 */
export async function openRunCheckpoints(
  deps: RunCheckpointsDeps,
  run: {
    taskId: string;
    spec: GenerationSpec;
    model: Pick<ModelInfo, "name" | "version" | "defaultSteps">;
    log: Logger;
    /** False: no earlier run can have left one, so none is read (the run starts at step 0). */
    lookup?: boolean;
    /** Backoff of the delete (tests shorten it); see `retryWithBackoff`. */
    retry?: Omit<RetryOptions, "log" | "what" | "signal">;
  },
): Promise<RunCheckpoints> {
  const { store } = deps;
  const { taskId, spec, model, log } = run;
  const key = checkpointKey(spec, model);
  const owner = {
    specHash: specHash(spec, model),
    model: model.name,
    modelVersion: model.version,
    totalSteps: spec.steps ?? model.defaultSteps,
  };
  const readCheckpoint = () =>
    inSpan("checkpoint.resume", { [Attr.taskId]: taskId }, async (span) => {
      const found = await store.load(taskId, key, owner, log).catch((err: unknown) => {
        log.warn({ err }, "checkpoint not readable: starting from step 0");
        return null;
      });
      span.setAttribute(Attr.step, found?.step ?? 0);
      return found;
    });
  let resumeFrom = run.lookup === false ? null : await readCheckpoint();
  // A retry (or a redelivery) that finds none redoes every step: worth a line to the operator.
  if (run.lookup !== false && !resumeFrom) log.info("no checkpoint stored: starting from step 0");
  // Set once a checkpoint may exist in the store (read, or a write tried by this run), so discard() knows.
  let stored = resumeFrom !== null;
  if (resumeFrom) {
    log.info(
      {
        step: resumeFrom.step,
        total_steps: resumeFrom.totalSteps,
        prior_denoise_s: resumeFrom.denoiseSeconds.toFixed(2),
      },
      "resuming from a checkpoint",
    );
  }
  // Writes start outside the trace (from the engine's messages): keep them in the task's.
  const ctx: Context = context.active();
  const { everySteps, everySeconds } = deps.cadence;
  const cadence =
    everySteps > 0 || everySeconds > 0
      ? {
          checkpointEvery: {
            ...(everySteps > 0 ? { steps: everySteps } : {}),
            ...(everySeconds > 0 ? { seconds: everySeconds } : {}),
          },
          onCheckpoint: (c: Checkpoint): Promise<void> =>
            context.with(ctx, async () => {
              // Before the write: one that failed may still have landed (a publish whose ack timed
              // out in an outage is stored once the server has it), and only a delete removes it.
              stored = true;
              try {
                const bytes = await store.save(taskId, key, c);
                log.debug({ step: c.step, bytes }, "checkpoint written");
              } catch (err) {
                deps.onWriteFailed?.();
                log.warn({ err, step: c.step }, "checkpoint not written; the next one supersedes it");
              }
            }),
        }
      : {};

  // Deleting a checkpoint that is not there changes nothing, so a try that timed out is retried.
  const forget = async (): Promise<void> => {
    if (!stored) return;
    try {
      await retryWithBackoff(() => store.delete(taskId, key), { ...run.retry, log, what: "delete the checkpoint" });
      stored = false;
    } catch (err) {
      log.warn({ err }, "checkpoint not deleted (its TTL will)");
    }
  };

  return {
    get resumed() {
      return resumeFrom && { step: resumeFrom.step, totalSteps: resumeFrom.totalSteps };
    },
    get priorSeconds() {
      return resumeFrom?.denoiseSeconds ?? 0;
    },
    async generate(generator, hooks, onRestart) {
      const withCheckpoints = { ...hooks, ...cadence };
      if (!resumeFrom) return generator.generate(spec, withCheckpoints);
      try {
        const result = await generator.generate(spec, { ...withCheckpoints, resumeFrom });
        deps.onResumed?.(result.startStep);
        return result;
      } catch (err) {
        if (!(err instanceof CheckpointMismatchError)) throw err;
        log.warn({ err }, "checkpoint refused by the model: deleted, starting from step 0");
        resumeFrom = null;
        await forget();
        onRestart?.();
        return generator.generate(spec, withCheckpoints);
      }
    },
    async keep(c) {
      stored = true;
      await store.save(taskId, key, c);
      return checkpointObjectName(taskId, key);
    },
    discard: forget,
  };
}
