import {
  type AttemptClaims,
  type AttemptOptions,
  type BlobStore,
  DECODE_CONSUMER,
  type Delivery,
  type PublishWorkerEvent,
  runAttempt,
  type TaskStore,
} from "@t2v/common/channels";
import type { DecodeJob } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import { isEngineLost, linkSignals, type RetryOptions, retryWithBackoff } from "@t2v/common/process";
import type { EncoderMetrics } from "../metrics.js";
import type { EncodeVideo } from "../use-cases/encode-video.js";

export interface DecodeConsumerDeps {
  tasks: Pick<TaskStore, "get">;
  /** Where each encode attempt is claimed before it runs, so a duplicate DecodeJob is dropped. */
  claims: AttemptClaims;
  /** This process, as its claims name it (unique per process). */
  holder: string;
  latents: Pick<BlobStore, "delete">;
  publishEvent: PublishWorkerEvent;
  encodeVideo: EncodeVideo;
  /** Fires on SIGTERM: the job is handed back for another encoder. */
  shutdown: AbortSignal;
  log: Logger;
  metrics?: EncoderMetrics;
  /** Resolves true when the decoder engine can take work (at once, or after a restart), false when it is lost for good. */
  engineReady?: () => Promise<boolean>;
  /** Backoff of the failed event's publish (tests shorten it). */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
}

/**
 * Handles one DecodeJob delivery: skipped (its latents deleted) when its task
 * ended or moved on, handed back on shutdown; any other failure is reported
 * as retryable, since decoding and encoding depend on nothing the task chose.
 * A job whose decoder engine died under it is handed back unspent, and the
 * next job is not pulled before the engine is back (the handler waits).
 */
export function createDecodeConsumer(deps: DecodeConsumerDeps): (d: Delivery<DecodeJob>) => Promise<void> {
  const options: AttemptOptions<DecodeJob> = {
    tasks: deps.tasks,
    // The failed event waits out an outage too; the job is acked only once it is out.
    publishEvent: (taskId, attempt, event, ctx) =>
      retryWithBackoff(() => deps.publishEvent(taskId, attempt, event, ctx), {
        ...deps.retry,
        log: deps.log,
        what: "publish the failed event",
      }),
    stage: "encode",
    work: "encoding",
    shutdown: deps.shutdown,
    log: deps.log,
    classify: (err) => (isEngineLost(err) ? "handBack" : deps.shutdown.aborted ? "cancelled" : "transient"),
    claims: deps.claims,
    holder: deps.holder,
    leaseMs: DECODE_CONSUMER.ackWaitMs,
    ...(deps.retry ? { retry: deps.retry } : {}),
    // Latents another live encoder is reading stay; those of an attempt that ended go.
    onSkip: (job, why) => (why === "held" ? undefined : deps.latents.delete(job.latentObject).catch(() => undefined)),
    onFailed: () => deps.metrics?.failures.add(1),
  };
  const ready = deps.engineReady ?? (() => Promise.resolve(true));
  return async (d) => {
    if (!(await ready())) {
      d.nak();
      return;
    }
    await runAttempt(d, options, async (a) => {
      const linked = linkSignals([deps.shutdown, a.superseded]);
      try {
        await deps.encodeVideo({ ...a, signal: linked.signal });
      } finally {
        linked.dispose();
      }
    });
    // consumeEach pulls the next job only once this returns: none while the engine restarts.
    await ready();
  };
}
