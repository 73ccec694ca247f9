import { create } from "@bufbuild/protobuf";
import { context, trace } from "@opentelemetry/api";
import {
  type BlobStore,
  type DecodeJobs,
  latentObjectName,
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
import { encodeLatents, type Latents } from "@t2v/model";
import type { GeneratorEngine } from "../adapters/generator-engine.js";
import { toGenerationSpec } from "../domain/to-generation-spec.js";
import type { InferenceMetrics } from "../metrics.js";

export interface GenerateVideoDeps {
  generator: Pick<GeneratorEngine, "info" | "generate">;
  latents: Pick<BlobStore, "put">;
  decodeJobs: Pick<DecodeJobs, "publish">;
  publishEvent: PublishWorkerEvent;
  metrics?: InferenceMetrics;
  /** Backoff of every write (tests shorten it); see `retryWithBackoff`. */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
}

/** One attempt to denoise, as the consumer hands it over. */
export interface GenerateRun {
  job: GenerateJob;
  spec: JobSpec;
  log: Logger;
  /** Fires on cancel or shutdown: generation stops between two steps. */
  signal: AbortSignal;
  /** Restarts the job's ack wait (after every step). */
  working(): void;
  /** Called once the denoise ended, before the upload: the next job may start denoising. */
  onModelFree(): void;
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
    let latents: Latents;
    try {
      // Not awaited, so denoising starts a round trip sooner; it still leaves before any step.
      events.push({
        case: "started",
        value: {
          executionProvider: provider,
          totalSteps: spec.steps || generator.info.defaultSteps,
          model: `${generator.info.name}@${generator.info.version}`,
        },
      });
      span?.setAttribute(Attr.provider, provider);
      const result = await generator.generate(toGenerationSpec(spec), {
        signal: run.signal,
        onStep: (r) => {
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
      });
      // No preemption is asked for, so the run always ends with its latents.
      if (result.kind !== "done") throw new Error("the denoise yielded without being asked to");
      latents = result.latents;
    } catch (err) {
      run.onModelFree();
      await events.flush().catch(() => undefined);
      throw err;
    }
    run.onModelFree();
    const denoiseSeconds = (performance.now() - started) / 1000;
    deps.metrics?.denoise.record(denoiseSeconds, { provider });
    // From here on the denoise is done: every write waits out an outage rather than lose it,
    // and the job is acked (by the caller) only once all of them went through.
    await events.flush();
    const latentObject = latentObjectName(taskId, attempt);
    const encoded = encodeLatents(latents);
    await inSpan("objectstore.put", { [Attr.taskId]: taskId, [Attr.object]: latentObject }, () =>
      retryWithBackoff(() => deps.latents.put(latentObject, encoded), { ...retry, what: "store the latents" }),
    );
    const decodeJob = create(DecodeJobSchema, { taskId, attempt, spec, latentObject });
    await retryWithBackoff(() => deps.decodeJobs.publish(decodeJob), { ...retry, what: "publish the DecodeJob" });
    events.push({ case: "denoised", value: { latentObject, denoiseSeconds } });
    await events.flush();
    log.info({ denoise_s: denoiseSeconds.toFixed(2), provider }, "denoised");
  };
}

export type GenerateVideo = ReturnType<typeof createGenerateVideo>;
