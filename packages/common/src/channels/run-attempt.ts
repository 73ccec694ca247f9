import type { Logger } from "pino";
import type { GenerationSpec } from "../gen/t2v/internal/v1/jobs_pb.js";
import { type Task, TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { type RetryOptions, retryWithBackoff } from "../process/retry.js";
import { isTerminal } from "../task/task-status.js";
import type { AttemptClaims } from "./attempt-claims.js";
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
  /** Each attempt is claimed before its work, so a job delivered twice runs once. */
  claims: AttemptClaims;
  /** This process, as its claims name it: unique per process ("<worker id>/<nonce>"). */
  holder: string;
  /**
   * How long a claim lasts without renewal (it is renewed at a third of it): the
   * consumer's ack wait, after which JetStream redelivers the job anyway.
   */
  leaseMs: number;
  /** Backoff of the claim's writes through an outage (tests shorten it). */
  retry?: Omit<RetryOptions, "log" | "what" | "signal">;
  /**
   * Called for a job that is not run, before it is acked: "ended" (its task ended or moved on
   * to another attempt), "done" (this attempt already ran) or "held" (another live worker is
   * running it: leave its inputs alone).
   */
  onSkip?(job: J, why: SkipReason): Promise<void> | void;
  /** Called for an attempt that failed, before the failed event goes out. */
  onFailed?(err: unknown): void;
}

export type SkipReason = "ended" | "done" | "held";

/** Thrown by `stillHeld` once another worker took the attempt over: stop and write nothing. */
export class AttemptSupersededError extends Error {
  constructor(key: string) {
    super(`attempt ${key} was taken over by another worker`);
    this.name = "AttemptSupersededError";
  }
}

export interface Attempt<J extends AttemptJob> {
  readonly job: J;
  readonly spec: GenerationSpec;
  /** The task as its record stood when the job was taken (before the claim). */
  readonly task: Task;
  /** Carries the task id and attempt on every line. */
  readonly log: Logger;
  /** Restarts the ack wait once (after a step, a chunk); the message is kept alive meanwhile anyway. */
  working(): void;
  /** Aborts (with an AttemptSupersededError) when another worker took this attempt over. */
  readonly superseded: AbortSignal;
  /**
   * Resolves while this worker still holds the attempt (waiting out an outage), rejects with
   * AttemptSupersededError once it does not: called just before the attempt writes its outputs,
   * so a worker that was stopped past its lease never overwrites those of the one that took over.
   */
  stillHeld(): Promise<void>;
}

/**
 * The life of one delivered job in a worker: skip it if its task ended or was
 * superseded; claim the attempt (a duplicate delivery of an attempt that ran,
 * or that another live worker runs, is dropped before it costs anything);
 * keep the message and the claim alive while `body` runs, then mark the claim
 * done and ack. A thrown error ends the attempt by its kind (a cancel is
 * acked, or handed back on shutdown with the claim released; a failure is
 * reported as a failed event, retryable when transient, and acked). A failed
 * publish of that event throws, so the consumer redelivers the job.
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
    await skip("ended");
    return;
  }
  const claimed = await opts.claims.claim(opts.stage, taskId, attempt, opts.holder, opts.leaseMs);
  if (claimed.kind === "held" && d.deliveryCount < HELD_RETRIES) {
    // Its holder may have died with the lease still running (kill -9 between two renewals): the
    // job comes back once the lease is out and is taken over then, same attempt, from its
    // checkpoint. A holder that lives on keeps it; after a few tries the duplicate is dropped.
    const waitMs = Math.max(1_000, claimed.leaseUntilMs - Date.now() + 1_000);
    log.info(
      { holder: claimed.holder, delivery_count: d.deliveryCount, wait_ms: waitMs },
      "attempt held by another worker: trying again after its lease",
    );
    await opts.onSkip?.(job, "held");
    d.nak(waitMs);
    return;
  }
  if (claimed.kind !== "claimed") {
    log.warn(
      { holder: claimed.kind === "held" ? claimed.holder : undefined, delivery_count: d.deliveryCount },
      claimed.kind === "done"
        ? `duplicate job dropped: this attempt's ${opts.work} already ran`
        : `duplicate job dropped: another worker is running this attempt's ${opts.work}`,
    );
    await skip(claimed.kind);
    return;
  }
  const claim = claimed.claim;
  const key = `${opts.stage}.${taskId}.${attempt}`;
  const superseded = new AbortController();
  const retry: RetryOptions = { ...opts.retry, log, what: `renew the claim on ${key}` };
  const lose = (): never => {
    const err = new AttemptSupersededError(key);
    superseded.abort(err);
    throw err;
  };
  // During an outage renewals fail and are tried again next time; the lease covers the gap.
  const renewals = setInterval(
    () => void claim.renew().then((held) => held || superseded.abort(new AttemptSupersededError(key)), ignore),
    Math.max(1, Math.floor(opts.leaseMs / 3)),
  );
  const stopKeepAlive = d.keepAlive();
  const settle = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    await retryWithBackoff(fn, { ...retry, what }).catch((err: unknown) => log.error({ err }, `${what} failed`));
  };
  try {
    await body({
      job,
      spec,
      task,
      log,
      working: () => d.working(),
      superseded: superseded.signal,
      stillHeld: async () => {
        superseded.signal.throwIfAborted();
        if (!(await retryWithBackoff(() => claim.renew(), retry))) lose();
      },
    });
    await settle(`mark ${key} done`, () => claim.complete());
    d.ack();
  } catch (err) {
    const kind = opts.classify(err);
    if (superseded.signal.aborted) {
      // The job now belongs to the worker that took it over: no event, no ack, no output.
      log.warn("attempt taken over by another worker (this one went a whole lease without renewing): stopped");
    } else if (kind === "handBack") {
      log.warn({ err }, `${opts.work} handed back: this worker cannot run it now`);
      await claim.release();
      d.nak();
    } else if (kind === "cancelled" && opts.shutdown.aborted) {
      log.info("shutting down: handing the task back");
      await claim.release();
      d.nak();
    } else if (kind === "cancelled") {
      log.info(`task cancelled mid-${opts.work}`);
      await settle(`mark ${key} done`, () => claim.complete());
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
      await settle(`mark ${key} done`, () => claim.complete());
      d.ack();
    }
  } finally {
    clearInterval(renewals);
    stopKeepAlive();
  }

  async function skip(why: SkipReason): Promise<void> {
    await opts.onSkip?.(job, why);
    d.ack();
  }
}

const ignore = (): void => undefined;

/**
 * Deliveries of a job whose attempt another worker holds that are put back (nak) to wait out its
 * lease; later ones are acked and dropped, well before the consumers' maxDeliver (5), which would
 * leave the message counted in the group's backlog.
 */
const HELD_RETRIES = 3;
