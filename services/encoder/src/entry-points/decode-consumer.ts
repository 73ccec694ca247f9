import {
  type AttemptOptions,
  type BlobStore,
  type Delivery,
  type PublishWorkerEvent,
  runAttempt,
  type TaskStore,
} from "@t2v/common/channels";
import type { DecodeJob } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { Logger } from "@t2v/common/logger";
import type { EncoderMetrics } from "../metrics.js";
import type { EncodeVideo } from "../use-cases/encode-video.js";

export interface DecodeConsumerDeps {
  tasks: Pick<TaskStore, "get">;
  latents: Pick<BlobStore, "delete">;
  publishEvent: PublishWorkerEvent;
  encodeVideo: EncodeVideo;
  /** Fires on SIGTERM: the job is handed back for another encoder. */
  shutdown: AbortSignal;
  log: Logger;
  metrics?: EncoderMetrics;
}

/**
 * Handles one DecodeJob delivery: skipped (its latents deleted) when its task
 * ended or moved on, handed back on shutdown; any other failure is reported
 * as retryable, since decoding and encoding depend on nothing the task chose.
 */
export function createDecodeConsumer(deps: DecodeConsumerDeps): (d: Delivery<DecodeJob>) => Promise<void> {
  const options: AttemptOptions<DecodeJob> = {
    tasks: deps.tasks,
    publishEvent: deps.publishEvent,
    stage: "encode",
    work: "encoding",
    shutdown: deps.shutdown,
    log: deps.log,
    classify: () => (deps.shutdown.aborted ? "cancelled" : "transient"),
    onSkip: (job) => deps.latents.delete(job.latentObject).catch(() => undefined),
    onFailed: () => deps.metrics?.failures.add(1),
  };
  return (d) => runAttempt(d, options, (a) => deps.encodeVideo({ ...a, signal: deps.shutdown }));
}
