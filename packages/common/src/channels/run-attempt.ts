import type { Logger } from "pino";
import type { GenerationSpec } from "../gen/t2v/internal/v1/jobs_pb.js";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { isTerminal } from "../task/task-status.js";
import type { Delivery } from "./delivery.js";
import type { TaskStore } from "./task-store.js";
import type { PublishWorkerEvent } from "./worker-events.js";

/** A job for one attempt of a task, as generate and decode jobs are. */
export interface AttemptJob {
  readonly taskId: string;
  readonly attempt: number;
  readonly spec?: GenerationSpec | undefined;
}

/**
 * How a thrown error ends an attempt. "cancelled": the task was cancelled, or
 * the worker is shutting down (then the job is handed back); "permanent": the
 * task cannot succeed; "transient": another try may; "handBack": the worker
 * cannot run it now (its engine was lost), so the job goes back (nak) with no
 * failed event and the attempt is not spent.
 */
export type AttemptEnd = "cancelled" | "permanent" | "transient" | "handBack";

export interface AttemptOptions<J extends AttemptJob> {
  tasks: Pick<TaskStore, "get">;
  publishEvent: PublishWorkerEvent;
  /** The `stage` of the failed event: "generate", "encode". */
  stage: string;
  /** The work, as logs name it: "generation" logs "generation failed". */
  work: string;
  /** Set on SIGTERM: a cancelled attempt is then handed back (nak) for another worker. */
  shutdown: AbortSignal;
  log: Logger;
  classify(err: unknown): AttemptEnd;
  /** Called for a job whose task ended or moved on to another attempt, before it is acked. */
  onSkip?(job: J): Promise<void> | void;
  /** Called for an attempt that failed, before the failed event goes out. */
  onFailed?(err: unknown): void;
}

export interface Attempt<J extends AttemptJob> {
  readonly job: J;
  readonly spec: GenerationSpec;
  /** Carries the task id and attempt on every line. */
  readonly log: Logger;
  /** Restarts the ack wait once (after a step, a chunk); the message is kept alive meanwhile anyway. */
  working(): void;
}

/**
 * The life of one delivered job in a worker: skip it if its task ended or was
 * superseded, keep the message alive while `body` runs, ack when it is done;
 * a thrown error ends the attempt by its kind (a cancel is acked, or handed
 * back on shutdown; a failure is reported as a failed event, retryable when
 * transient, and acked). A failed publish of that event throws, so the
 * consumer redelivers the job.
 */
export async function runAttempt<J extends AttemptJob>(
  d: Delivery<J>,
  opts: AttemptOptions<J>,
  body: (a: Attempt<J>) => Promise<void>,
): Promise<void> {
  const job = d.message;
  const { taskId, attempt, spec } = job;
  const log = opts.log.child({ task_id: taskId, attempt });
  const task = (await opts.tasks.get(taskId))?.record.task;
  // A paused task's job is skipped too: ResumeTask dispatches a fresh attempt.
  const paused = task?.status === TaskStatus.PAUSED;
  if (!task || isTerminal(task.status) || paused || task.attempt !== attempt || !spec) {
    log.info(paused ? "skipping job: task paused" : "skipping job: task ended, cancelled or superseded");
    await opts.onSkip?.(job);
    d.ack();
    return;
  }
  const stopKeepAlive = d.keepAlive();
  try {
    await body({ job, spec, log, working: () => d.working() });
    d.ack();
  } catch (err) {
    const kind = opts.classify(err);
    if (kind === "handBack") {
      log.warn({ err }, `${opts.work} handed back: this worker cannot run it now`);
      d.nak();
    } else if (kind === "cancelled" && opts.shutdown.aborted) {
      log.info("shutting down: handing the task back");
      d.nak();
    } else if (kind === "cancelled") {
      log.info(`task cancelled mid-${opts.work}`);
      d.ack();
    } else {
      log.error({ err }, `${opts.work} failed`);
      opts.onFailed?.(err);
      await opts.publishEvent(taskId, attempt, {
        case: "failed",
        value: {
          message: err instanceof Error ? err.message : String(err),
          retryable: kind === "transient",
          stage: opts.stage,
        },
      });
      d.ack();
    }
  } finally {
    stopKeepAlive();
  }
}
