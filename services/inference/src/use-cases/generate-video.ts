import { create } from "@bufbuild/protobuf";
import { context, trace } from "@opentelemetry/api";
import { type BlobStore, type DecodeJobs, latentObjectName, type PublishWorkerEvent } from "@t2v/common/channels";
import {
  DecodeJobSchema,
  type GenerateJob,
  type GenerationSpec as JobSpec,
} from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
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
    const pending: Promise<void>[] = [];
    const started = performance.now();
    let latents: Latents;
    try {
      // Not awaited, so denoising starts a round trip sooner; it still leaves before any step.
      pending.push(
        deps.publishEvent(taskId, attempt, {
          case: "started",
          value: {
            executionProvider: provider,
            totalSteps: spec.steps || generator.info.defaultSteps,
            model: `${generator.info.name}@${generator.info.version}`,
          },
        }),
      );
      span?.setAttribute(Attr.provider, provider);
      latents = await generator.generate(toGenerationSpec(spec), {
        signal: run.signal,
        onStep: (r) => {
          run.working();
          span?.addEvent("denoise.step", {
            [Attr.step]: r.step,
            [Attr.expert]: r.expert,
            [Attr.stepSeconds]: r.stepSeconds,
          });
          deps.metrics?.step.record(r.stepSeconds, { provider });
          // Not awaited, so the next step starts at once; publishes leave in order.
          const value = { step: r.step, totalSteps: r.totalSteps, stepSeconds: r.stepSeconds };
          pending.push(deps.publishEvent(taskId, attempt, { case: "step", value }, ctx));
        },
      });
    } catch (err) {
      run.onModelFree();
      await Promise.allSettled(pending);
      throw err;
    }
    run.onModelFree();
    const denoiseSeconds = (performance.now() - started) / 1000;
    await Promise.all(pending);
    deps.metrics?.denoise.record(denoiseSeconds, { provider });
    const latentObject = latentObjectName(taskId, attempt);
    await inSpan("objectstore.put", { [Attr.taskId]: taskId, [Attr.object]: latentObject }, () =>
      deps.latents.put(latentObject, encodeLatents(latents)),
    );
    await deps.decodeJobs.publish(create(DecodeJobSchema, { taskId, attempt, spec, latentObject }));
    await deps.publishEvent(taskId, attempt, { case: "denoised", value: { latentObject, denoiseSeconds } });
    log.info({ denoise_s: denoiseSeconds.toFixed(2), provider }, "denoised");
  };
}

export type GenerateVideo = ReturnType<typeof createGenerateVideo>;
