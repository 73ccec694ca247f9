import { create } from "@bufbuild/protobuf";
import { context, trace } from "@opentelemetry/api";
import {
  AttemptSupersededError,
  type BlobStore,
  type DecodeJobs,
  latentObjectName,
  type Previews,
  type PublishWorkerEvent,
  type WorkerEventBody,
} from "@t2v/common/channels";
import {
  DecodeJobSchema,
  type GenerateJob,
  type GenerationSpec as JobSpec,
} from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import { createOutbox, type RetryOptions, retryWithBackoff } from "@t2v/common/process";
import { Attr, inSpan } from "@t2v/common/telemetry";
import { type Checkpoint, encodeLatents, type GenerateHooks, GenerationCancelledError, type Latents } from "@t2v/model";
import type { GeneratorEngine } from "../adapters/generator-engine.js";
import type { SamplerSettings } from "../adapters/sampler-settings.js";
import { stepsFor } from "../domain/draft-steps.js";
import { toGenerationSpec } from "../domain/to-generation-spec.js";
import type { InferenceMetrics } from "../metrics.js";
import { previewHooks } from "./preview-hooks.js";
import { openRunCheckpoints, type RunCheckpoints, type RunCheckpointsDeps } from "./run-checkpoints.js";

export interface GenerateVideoDeps {
  generator: Pick<GeneratorEngine, "info" | "generate">;
  latents: Pick<BlobStore, "put">;
  decodeJobs: Pick<DecodeJobs, "publish">;
  publishEvent: PublishWorkerEvent;
  metrics?: InferenceMetrics;
  /** Where running denoises are checkpointed and resumed from; without it every attempt starts at step 0. */
  checkpoints?: RunCheckpointsDeps;
  /** Fires on SIGTERM: a task stopped by it keeps its checkpoint for the worker that takes it next. */
  shutdown?: AbortSignal;
  /** Backoff of every write (tests shorten it); see `retryWithBackoff`. */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
  /** What the model package declares about its sampler, reported in the task's effective request. */
  sampler?: SamplerSettings;
  /** Where live previews go when a job asks for them (preview_every_steps). */
  previews?: Pick<Previews, "publish">;
}

/** One attempt to denoise, as the consumer hands it over. */
export interface GenerateRun {
  job: GenerateJob;
  spec: JobSpec;
  log: Logger;
  /** Fires on cancel or shutdown: generation stops between two steps. */
  signal: AbortSignal;
  /**
   * Fires on pause or preemption (its reason: "pause", "preempt"): generation stops at the next
   * step boundary, the checkpoint is kept and a Yielded event ends the attempt.
   */
  preempt?: AbortSignal;
  /** Restarts the job's ack wait (after every step). */
  working(): void;
  /** Rejects once another worker took the attempt over: called before the latents are written. */
  stillHeld(): Promise<void>;
  /** Called once the denoise ended, before the upload: the next job may start denoising. */
  onModelFree(): void;
  /**
   * Whether an earlier run may have left a checkpoint to resume from; false skips the lookup
   * (a round trip before the first step). Default true.
   */
  mayResume?: boolean;
}

/**
 * Denoises one task: text encoding and the sampler loop in the model's worker
 * thread, progress after every step, latents to the latents store, then a
 * DecodeJob for the encoder so this GPU can move on to the next task.
 */
export function createGenerateVideo(deps: GenerateVideoDeps) {
  return async function generateVideo(run: GenerateRun): Promise<void> {
    const { job, spec, log } = run;
    const { taskId, attempt } = job;
    const { generator } = deps;
    const provider = generator.info.executionProvider;
    const span = trace.getActiveSpan();
    // Step callbacks come from the engine's worker thread, outside this trace.
    const ctx = context.active();
    const retry = { ...deps.retry, log };
    // Events leave in order and are retried through an outage; a step waiting behind
    // another is replaced by the next one, so the queue stays a few events long.
    const events = createOutbox<WorkerEventBody>((e) => deps.publishEvent(taskId, attempt, e, ctx), {
      ...retry,
      what: "publish worker event",
      replaces: (last, next) => last?.case === "step" && next?.case === "step",
    });
    const started = performance.now();
    const info = generator.info;
    const startedEvent: WorkerEventBody = {
      case: "started",
      value: {
        executionProvider: provider,
        totalSteps: stepsFor(spec, info.defaultSteps),
        model: `${info.name}@${info.version}`,
        // The effective request, as the task reports it.
        modelName: info.name,
        modelVersion: info.version,
        ...deps.sampler,
      },
    };
    const modelSpec = toGenerationSpec(spec, info.defaultSteps);
    // Text encoding runs before the first step: the first step's report, less that step, bounds it.
    let textEncodeSeconds = 0;
    let stepsSeen = 0;
    let latents: Latents;
    let checkpoints: RunCheckpoints | undefined;
    let engineSeconds = 0;
    /**
     * Keeps the state the run yielded (waiting out an outage: it is the task's progress), then
     * reports Yielded; the job is acked by the caller and the next attempt resumes from it.
     */
    const yieldRun = async (checkpoint: Checkpoint, seconds: number, reason: string): Promise<void> => {
      const store = checkpoints;
      if (!store) throw new Error("yielded without a checkpoint store");
      const checkpointObject = await retryWithBackoff(() => store.keep(checkpoint), {
        ...retry,
        what: "store the yielded checkpoint",
      });
      span?.addEvent("denoise.yielded", { [Attr.step]: checkpoint.step, "t2v.yield.reason": reason });
      deps.metrics?.yields.add(1, { reason });
      events.push({
        case: "yielded",
        value: {
          step: checkpoint.step,
          totalSteps: checkpoint.totalSteps,
          checkpointObject,
          denoiseSeconds: seconds,
          reason,
        },
      });
      await events.flush();
      log.info({ step: checkpoint.step, total_steps: checkpoint.totalSteps, reason }, "denoise yielded");
    };
    try {
      // Not awaited, so denoising starts a round trip sooner; it still leaves before any step.
      events.push(startedEvent);
      span?.setAttribute(Attr.provider, provider);
      checkpoints =
        deps.checkpoints &&
        (await openRunCheckpoints(deps.checkpoints, {
          taskId,
          spec: modelSpec,
          model: generator.info,
          log,
          lookup: run.mayResume !== false,
          retry: deps.retry,
        }));
      const resumed = checkpoints?.resumed;
      // Progress goes on from the checkpoint at once; only the remaining steps report.
      if (resumed) events.push({ case: "step", value: { ...resumed, stepSeconds: 0 } });
      const hooks: GenerateHooks = {
        signal: run.signal,
        // Only with a store to keep the yielded state in; without one the run goes on to the end.
        ...(checkpoints && run.preempt ? { preempt: run.preempt } : {}),
        ...(deps.previews
          ? previewHooks(spec.previewEverySteps, { taskId, attempt, previews: deps.previews, log })
          : {}),
        onStep: (r) => {
          if (stepsSeen++ === 0) textEncodeSeconds = Math.max(0, (performance.now() - started) / 1000 - r.stepSeconds);
          run.working();
          span?.addEvent("denoise.step", {
            [Attr.step]: r.step,
            [Attr.expert]: r.expert,
            [Attr.stepSeconds]: r.stepSeconds,
          });
          deps.metrics?.step.record(r.stepSeconds, { provider });
          // Not awaited, so the next step starts at once.
          events.push({ case: "step", value: { step: r.step, totalSteps: r.totalSteps, stepSeconds: r.stepSeconds } });
        },
      };
      // A refused checkpoint restarts the clip: "started" again lets progress count from step 0.
      const result = checkpoints
        ? await checkpoints.generate(generator, hooks, () => events.push(startedEvent))
        : await generator.generate(modelSpec, hooks);
      if (result.kind === "yielded") {
        run.onModelFree();
        const reason = String(run.preempt?.reason ?? "preempt");
        await yieldRun(result.checkpoint, result.denoiseSeconds, reason);
        return;
      }
      latents = result.latents;
      engineSeconds = result.denoiseSeconds;
    } catch (err) {
      run.onModelFree();
      // A cancelled task needs its checkpoint no more; one handed back on shutdown, or taken
      // over by another worker, keeps it for the worker that goes on.
      const handedOn = deps.shutdown?.aborted || run.signal.reason instanceof AttemptSupersededError;
      if (err instanceof GenerationCancelledError && !handedOn) await checkpoints?.discard();
      await events.flush().catch(() => undefined);
      throw err;
    }
    run.onModelFree();
    const runSeconds = (performance.now() - started) / 1000;
    deps.metrics?.denoise.record(runSeconds, { provider });
    // Billed: this run's engine time plus that of the runs before it, up to the checkpoint it
    // resumed from (the checkpoint carries their sum). The steps a killed run did after its last
    // checkpoint are lost with it (at most one interval) and not billed.
    const denoiseSeconds = engineSeconds + (checkpoints?.priorSeconds ?? 0);
    // From here on the denoise is done: every write waits out an outage rather than lose it,
    // and the job is acked (by the caller) only once all of them went through.
    await events.flush();
    // A worker stopped past its lease (SIGSTOP, a long partition) lost the attempt to another:
    // it must not overwrite what that one writes.
    await run.stillHeld();
    const latentObject = latentObjectName(taskId, attempt);
    const encoded = encodeLatents(latents);
    await inSpan("objectstore.put", { [Attr.taskId]: taskId, [Attr.object]: latentObject }, () =>
      retryWithBackoff(() => deps.latents.put(latentObject, encoded), { ...retry, what: "store the latents" }),
    );
    const decodeJob = create(DecodeJobSchema, { taskId, attempt, spec, latentObject });
    await retryWithBackoff(() => deps.decodeJobs.publish(decodeJob), { ...retry, what: "publish the DecodeJob" });
    events.push({ case: "denoised", value: { latentObject, denoiseSeconds, textEncodeSeconds } });
    await events.flush();
    // Last: until the DecodeJob and the event are out, a redelivery may still resume from it.
    await checkpoints?.discard();
    log.info(
      {
        denoise_s: runSeconds.toFixed(2),
        billed_s: denoiseSeconds.toFixed(2),
        resumed_from_step: checkpoints?.resumed?.step ?? 0,
        provider,
      },
      "denoised",
    );
  };
}

export type GenerateVideo = ReturnType<typeof createGenerateVideo>;
