import { SpanKind } from "@opentelemetry/api";
import {
  type Attempt,
  type AttemptClaims,
  type AttemptOptions,
  type Delivery,
  type PublishWorkerEvent,
  runAttempt,
  type TaskStore,
} from "@t2v/common/channels";
import type { GenerateJob } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import { isEngineLost, type RetryOptions, retryWithBackoff } from "@t2v/common/process";
import { isTerminal } from "@t2v/common/task";
import { Attr, inSpan } from "@t2v/common/telemetry";
import { classifyFailure } from "../domain/classify-failure.js";
import type { GenerateVideo } from "../use-cases/generate-video.js";
import type { RunningTasks } from "./cancel-listener.js";
import type { JobHandler, RunHooks } from "./work-loop.js";

export interface GenerateConsumerDeps {
  tasks: Pick<TaskStore, "get">;
  /** Where each denoise attempt is claimed before it runs, so a duplicate GenerateJob is dropped. */
  claims: AttemptClaims;
  /** This process, as its claims name it (unique per process). */
  holder: string;
  /** The group's consumer's ack wait: how long a claim lasts without renewal. */
  leaseMs: number;
  publishEvent: PublishWorkerEvent;
  generateVideo: GenerateVideo;
  running: Pick<RunningTasks, "track">;
  /** Fires on SIGTERM: the running task is handed back for another worker. */
  shutdown: AbortSignal;
  log: Logger;
  /** Told the task id when denoising starts and "" when the model is free again (heartbeat, busy ratio). */
  onBusy(taskId: string): void;
  /** Backoff of the failed event's publish (tests shorten it). */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
}

/**
 * Handles one GenerateJob delivery: skipped when its task ended or moved on,
 * otherwise denoised with cancel broadcasts and shutdown stopping it between
 * two steps. Each job runs in a span continuing the dispatcher's, so the
 * task stays one trace.
 */
export function createGenerateConsumer(deps: GenerateConsumerDeps): JobHandler<GenerateJob> {
  const attemptOptions: AttemptOptions<GenerateJob> = {
    tasks: deps.tasks,
    // The failed event waits out an outage too; the job is acked only once it is out.
    publishEvent: (taskId, attempt, event, ctx) =>
      retryWithBackoff(() => deps.publishEvent(taskId, attempt, event, ctx), {
        ...deps.retry,
        log: deps.log,
        what: "publish the failed event",
      }),
    stage: "generate",
    work: "generation",
    shutdown: deps.shutdown,
    log: deps.log,
    // A dead engine thread is this worker's fault, not the task's: the job goes back unspent.
    classify: (err) => (isEngineLost(err) ? "handBack" : classifyFailure(err)),
    claims: deps.claims,
    holder: deps.holder,
    leaseMs: deps.leaseMs,
    ...(deps.retry ? { retry: deps.retry } : {}),
  };

  async function denoise(a: Attempt<GenerateJob>, hooks: RunHooks): Promise<void> {
    const { taskId } = a.job;
    const run = deps.running.track(taskId, deps.shutdown, a.job.attempt);
    deps.onBusy(taskId);
    let freed = false;
    // The next job may start denoising while this one uploads its latents and publishes.
    const onModelFree = (): void => {
      if (freed) return;
      freed = true;
      deps.onBusy("");
      hooks.onModelFree();
    };
    try {
      // A cancel broadcast sent between runAttempt's read of the record and `track` reached no
      // listener: the record, read again now that one listens, says so (a cancel right after
      // submit would otherwise denoise the whole clip). Not awaited: the run starts meanwhile and
      // stops at its first step boundary after the answer, as it would for a broadcast.
      const ended = new AbortController();
      void deps.tasks.get(taskId).then(
        (stored) => {
          const now = stored?.record.task;
          if (!now || isTerminal(now.status)) ended.abort(new Error("cancelled"));
        },
        // Unreadable now (an outage): the broadcast listener and the next worker-event write still see a cancel.
        (err: unknown) => a.log.warn({ err }, "record not re-read before denoising"),
      );
      // Taken over by another worker (this one went a lease without renewing): stop between two steps.
      const signal = AbortSignal.any([run.signal, a.superseded, ended.signal]);
      // A worker reports "started" before its first step, so only a task whose record shows a start
      // can have a checkpoint. (One whose start was never applied, the scheduler away a whole
      // lease, starts over from step 0: the same clip, more steps.)
      const mayResume = a.task.startTime !== undefined;
      await deps.generateVideo({ ...a, signal, preempt: run.preempt, onModelFree, mayResume });
    } finally {
      run.release();
      onModelFree();
    }
  }

  return (d: Delivery<GenerateJob>, hooks: RunHooks) =>
    inSpan(
      "inference.generate",
      {
        [Attr.taskId]: d.message.taskId,
        [Attr.attempt]: d.message.attempt,
        "messaging.message.delivery_count": d.deliveryCount,
      },
      () => runAttempt(d, { ...attemptOptions, onSkip: () => hooks.onModelFree() }, (a) => denoise(a, hooks)),
      { parent: d.traceContext, kind: SpanKind.CONSUMER },
    );
}
