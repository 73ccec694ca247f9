import { create, fromBinary } from "@bufbuild/protobuf";
import type { JetStreamClient, JsMsg, PubAck } from "@nats-io/jetstream";
import type { ObjectStore } from "@nats-io/obj";
import { type Span, SpanKind } from "@opentelemetry/api";
import {
  Attr,
  context,
  contextFromHeaders,
  inSpan,
  isTerminal,
  type Logger,
  type PublishWorkerEvent,
  publishProto,
  Subjects,
  type TaskStore,
} from "@t2v/common";
import { DecodeJobSchema, type GenerateJob, GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { encodeLatents, type Generator } from "@t2v/model";
import type { Cancellations } from "./cancellations.js";
import { classifyFailure } from "./domain/classify-failure.js";
import { toGenerationSpec } from "./domain/to-generation-spec.js";
import type { InferenceMetrics } from "./inference-metrics.js";
import type { RunHooks } from "./work-loop.js";

export interface GenerateDeps {
  tasks: TaskStore;
  latents: ObjectStore;
  js: JetStreamClient;
  generator: Generator;
  cancellations: Cancellations;
  publishEvent: PublishWorkerEvent;
  log: Logger;
  /** Fires on SIGTERM: the running task is handed back for another worker. */
  shutdown: AbortSignal;
  /** Told the task id when work starts and "" when it ends (for heartbeats). */
  onBusy?: (taskId: string) => void;
  metrics?: InferenceMetrics;
}

/** Heartbeat well inside the consumer's ack_wait, even between slow steps. */
const HEARTBEAT_MS = 10_000;

/**
 * Denoises one task: text encoding and the sampler loop in the model's worker
 * thread, progress after every step, latents to the object store, then a
 * DecodeJob for the encoder so this GPU can move on to the next task.
 */
export function createGenerateHandler(deps: GenerateDeps) {
  // Each job runs in a span continuing the dispatcher's, so the task stays one trace.
  return function handleGenerate(msg: JsMsg, hooks?: RunHooks): Promise<void> {
    const job = fromBinary(GenerateJobSchema, msg.data);
    return inSpan(
      "inference.generate",
      {
        [Attr.taskId]: job.taskId,
        [Attr.attempt]: job.attempt,
        "messaging.message.delivery_count": msg.info.deliveryCount,
      },
      (span) => generate(msg, job, span, hooks),
      { parent: contextFromHeaders(msg.headers), kind: SpanKind.CONSUMER },
    );
  };

  async function generate(msg: JsMsg, job: GenerateJob, span: Span, hooks?: RunHooks): Promise<void> {
    const { taskId, attempt } = job;
    const log = deps.log.child({ task_id: taskId, attempt });
    const stored = await deps.tasks.get(taskId);
    const task = stored?.record.task;
    if (!task || isTerminal(task.status) || task.attempt !== attempt || !job.spec) {
      log.info("skipping job: task ended, cancelled or superseded");
      msg.ack();
      hooks?.onModelFree();
      return;
    }

    const heartbeat = setInterval(() => msg.working(), HEARTBEAT_MS);
    deps.onBusy?.(taskId);
    deps.metrics?.busy(true);
    // Step callbacks come from the engine's worker thread, outside this trace.
    const ctx = context.active();
    const run = deps.cancellations.track(taskId, deps.shutdown);
    const pending: Promise<PubAck>[] = [];
    const started = performance.now();
    let freed = false;
    // The next job may start denoising while this one uploads its latents and publishes.
    const freeModel = (): void => {
      if (freed) return;
      freed = true;
      deps.onBusy?.("");
      deps.metrics?.busy(false);
      hooks?.onModelFree();
    };
    try {
      const { generator } = deps;
      // Not awaited, so denoising starts a round trip sooner; it still leaves before any step.
      pending.push(
        deps.publishEvent(taskId, attempt, {
          case: "started",
          value: {
            executionProvider: generator.info.executionProvider,
            totalSteps: job.spec.steps || generator.info.defaultSteps,
            model: `${generator.info.name}@${generator.info.version}`,
          },
        }),
      );
      span.setAttribute(Attr.provider, generator.info.executionProvider);
      const latents = await generator.generate(toGenerationSpec(job.spec), {
        signal: run.signal,
        onStep: (r) => {
          msg.working();
          span.addEvent("denoise.step", {
            [Attr.step]: r.step,
            "t2v.expert": r.expert,
            "t2v.step_seconds": r.stepSeconds,
          });
          deps.metrics?.step.record(r.stepSeconds, { provider: generator.info.executionProvider });
          // Not awaited, so the next step starts at once; publishes leave in order.
          pending.push(
            deps.publishEvent(
              taskId,
              attempt,
              { case: "step", value: { step: r.step, totalSteps: r.totalSteps, stepSeconds: r.stepSeconds } },
              ctx,
            ),
          );
        },
      });
      freeModel();
      const denoiseSeconds = (performance.now() - started) / 1000;
      await Promise.all(pending);
      const latentObject = `${taskId}.${attempt}`;
      deps.metrics?.denoise.record(denoiseSeconds, { provider: generator.info.executionProvider });
      await inSpan("objectstore.put", { [Attr.taskId]: taskId, "t2v.object": latentObject }, () =>
        deps.latents.putBlob({ name: latentObject }, encodeLatents(latents)),
      );
      await publishProto(
        deps.js,
        Subjects.decode,
        DecodeJobSchema,
        create(DecodeJobSchema, { taskId, attempt, spec: job.spec, latentObject }),
        { msgId: `decode:${taskId}:${attempt}`, taskId },
      );
      await deps.publishEvent(taskId, attempt, { case: "denoised", value: { latentObject, denoiseSeconds } });
      log.info({ denoise_s: denoiseSeconds.toFixed(2), provider: generator.info.executionProvider }, "denoised");
      msg.ack();
    } catch (err) {
      freeModel();
      await Promise.allSettled(pending);
      const kind = classifyFailure(err);
      if (kind === "cancelled" && deps.shutdown.aborted) {
        log.info("shutting down: handing the task back");
        msg.nak();
      } else if (kind === "cancelled") {
        log.info("task cancelled mid-generation");
        msg.ack();
      } else {
        log.error({ err }, "generation failed");
        await deps.publishEvent(taskId, attempt, {
          case: "failed",
          value: { message: errorText(err), retryable: kind === "transient", stage: "generate" },
        });
        msg.ack();
      }
    } finally {
      clearInterval(heartbeat);
      run.release();
      freeModel();
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
