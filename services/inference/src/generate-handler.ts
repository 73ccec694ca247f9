import { create, fromBinary } from "@bufbuild/protobuf";
import type { JetStreamClient, JsMsg, PubAck } from "@nats-io/jetstream";
import type { ObjectStore } from "@nats-io/obj";
import { isTerminal, type Logger, type PublishWorkerEvent, publishProto, Subjects, type TaskStore } from "@t2v/common";
import { DecodeJobSchema, GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { encodeLatents, type Generator } from "@t2v/model";
import type { Cancellations } from "./cancellations.js";
import { classifyFailure } from "./domain/classify-failure.js";
import { toGenerationSpec } from "./domain/to-generation-spec.js";

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
}

/** Heartbeat well inside the consumer's ack_wait, even between slow steps. */
const HEARTBEAT_MS = 10_000;

/**
 * Denoises one task: text encoding and the sampler loop in the model's worker
 * thread, progress after every step, latents to the object store, then a
 * DecodeJob for the encoder so this GPU can move on to the next task.
 */
export function createGenerateHandler(deps: GenerateDeps) {
  return async function handleGenerate(msg: JsMsg): Promise<void> {
    const job = fromBinary(GenerateJobSchema, msg.data);
    const { taskId, attempt } = job;
    const log = deps.log.child({ task_id: taskId, attempt });
    const stored = await deps.tasks.get(taskId);
    const task = stored?.record.task;
    if (!task || isTerminal(task.status) || task.attempt !== attempt || !job.spec) {
      log.info("skipping job: task ended, cancelled or superseded");
      msg.ack();
      return;
    }

    const heartbeat = setInterval(() => msg.working(), HEARTBEAT_MS);
    deps.onBusy?.(taskId);
    const run = deps.cancellations.track(taskId, deps.shutdown);
    const pending: Promise<PubAck>[] = [];
    const started = performance.now();
    try {
      const { generator } = deps;
      await deps.publishEvent(taskId, attempt, {
        case: "started",
        value: {
          executionProvider: generator.info.executionProvider,
          totalSteps: job.spec.steps || generator.info.defaultSteps,
        },
      });
      const latents = await generator.generate(toGenerationSpec(job.spec), {
        signal: run.signal,
        onStep: (r) => {
          msg.working();
          // Not awaited, so the next step starts at once; publishes leave in order.
          pending.push(
            deps.publishEvent(taskId, attempt, {
              case: "step",
              value: { step: r.step, totalSteps: r.totalSteps, stepSeconds: r.stepSeconds },
            }),
          );
        },
      });
      const denoiseSeconds = (performance.now() - started) / 1000;
      await Promise.all(pending);
      const latentObject = `${taskId}.${attempt}`;
      await deps.latents.putBlob({ name: latentObject }, encodeLatents(latents));
      await publishProto(
        deps.js,
        Subjects.decode,
        DecodeJobSchema,
        create(DecodeJobSchema, { taskId, attempt, spec: job.spec, latentObject }),
        `decode:${taskId}:${attempt}`,
      );
      await deps.publishEvent(taskId, attempt, { case: "denoised", value: { latentObject, denoiseSeconds } });
      log.info({ denoise_s: denoiseSeconds.toFixed(2), provider: generator.info.executionProvider }, "denoised");
      msg.ack();
    } catch (err) {
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
      deps.onBusy?.("");
    }
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
