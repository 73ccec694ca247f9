import { clone, create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { trace } from "@opentelemetry/api";
import type { Submissions, TaskStore } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import {
  type CreateTaskRequest,
  CreateTaskRequestSchema,
  type Task,
  TaskSchema,
  TaskStatus,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { Attr, currentTraceParent } from "@t2v/common/telemetry";
import type { Admission, Reservation } from "../adapters/admission.js";
import type { IdempotencyStore } from "../adapters/idempotency-store.js";
import type { AllowList } from "../domain/allow-list.js";
import type { Caller } from "../domain/caller.js";
import { checkContract } from "../domain/check-contract.js";
import { normalizeCreateRequest } from "../domain/normalize-create-request.js";
import { requestHash } from "../domain/request-hash.js";
import { type FieldViolation, invalidArgument } from "../domain/rpc-errors.js";
import { checkWebhookTarget, type Resolver } from "../domain/webhook-target.js";

export interface CreateTaskDeps {
  tasks: TaskStore;
  submissions: Submissions;
  log: Logger;
  randomSeed: () => number;
  now: () => number;
  idempotency: IdempotencyStore;
  admit: Admission;
  webhookAllow: AllowList;
  resolve: Resolver;
  /** Hears how long each stage of a submit took, in seconds (a metric). */
  onStage?: (stage: SubmitStage, seconds: number) => void;
  /** Where the new task will stand in its queue, asked while its record and submission are written. */
  project?: (task: Task, tenantId: string) => Promise<QueueEstimate | undefined>;
}

/** The stages of a submit that wait on NATS: admit first, then persist and publish together. */
export type SubmitStage = "admit" | "persist" | "publish";

/** What RerunTask adds: the origin task, and the steps its overrides ask for. */
export interface CreateOptions {
  rerunOf?: string;
  steps?: number;
}

/** The task's record; for a task this call created, where the scheduler says it will stand (when it answered in time). */
export interface CreatedTask {
  record: TaskRecord;
  estimate?: QueueEstimate;
}

export type CreateTask = (caller: Caller, req: CreateTaskRequest, opts?: CreateOptions) => Promise<CreatedTask>;

/**
 * The CreateTask use case, shared by every protocol: validate, replay an
 * idempotent retry, admit, persist, queue. The pool is the caller's tier.
 */
export function createTaskUseCase(deps: CreateTaskDeps): CreateTask {
  const { tasks, log } = deps;
  /** Runs one stage, reporting its time whether it succeeds or not. */
  async function timed<T>(stage: SubmitStage, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      deps.onStage?.(stage, (performance.now() - started) / 1000);
    }
  }

  /**
   * The contract (protovalidate rules) first, then the semantic checks. The
   * RPC interceptor has already checked the contract, but this also covers
   * REST and an idempotency key taken from the Idempotency-Key header.
   */
  async function validate(req: CreateTaskRequest, opts: CreateOptions) {
    checkContract(CreateTaskRequestSchema, req);
    const result = normalizeCreateRequest(req, deps.randomSeed, opts.steps ? { steps: opts.steps } : {});
    const violations: FieldViolation[] = result.ok ? [] : [...result.violations];
    if (req.webhookUrl !== "") {
      const target = await checkWebhookTarget(req.webhookUrl, deps.webhookAllow, deps.resolve);
      if (!target.ok) violations.push({ field: "webhook_url", description: target.reason });
    }
    if (!result.ok || violations.length > 0) throw invalidArgument(violations);
    return result;
  }

  async function replay(caller: Caller, taskId: string): Promise<TaskRecord | null> {
    const found = await tasks.get(taskId);
    return found && found.record.tenantId === caller.tenantId ? found.record : null;
  }

  /**
   * The task id to use (a fresh one, or the one an earlier request with the
   * same key claimed) and the tenant's place in its queue; or the task an
   * earlier request with the same key created.
   */
  async function claimId(
    caller: Caller,
    key: string,
    hash: string,
  ): Promise<TaskRecord | { taskId: string; place: Reservation }> {
    let taskId = newTaskId();
    if (key !== "") {
      const earlier = await deps.idempotency.find(caller.tenantId, key);
      if (earlier) {
        if (earlier.requestHash !== hash) throw sameKeyOtherRequest();
        const existing = await replay(caller, earlier.taskId);
        if (existing) return existing;
        // Claimed but never persisted (a crash in between): finish the job under the claimed id.
        taskId = earlier.taskId;
      }
    }
    const place = await timed("admit", () => deps.admit(caller.tenantId, caller.tier));
    if (key === "") return { taskId, place };
    try {
      const claim = await deps.idempotency.claim(caller.tenantId, key, taskId, hash);
      if (claim.requestHash !== hash) throw sameKeyOtherRequest();
      return { taskId: claim.taskId, place };
    } catch (err) {
      place.release();
      throw err;
    }
  }

  return async (caller, req, opts = {}) => {
    const valid = await validate(req, opts);
    const hash = requestHash(req);
    const key = req.idempotencyKey;
    const claimed = await claimId(caller, key, hash);
    if (!("place" in claimed)) return { record: claimed };
    const { taskId, place } = claimed;

    const nowMs = deps.now();
    const now = timestampFromMs(nowMs);
    const pool = caller.tier;
    const record = create(TaskRecordSchema, {
      task: {
        taskId,
        status: TaskStatus.QUEUED,
        progress: 0,
        createTime: now,
        updateTime: now,
        params: valid.params,
        attempt: 1,
        tier: caller.tier,
        webhookUrl: req.webhookUrl,
        idempotencyKey: key,
        ...(valid.timeoutMs !== undefined ? { deadline: timestampFromMs(nowMs + valid.timeoutMs) } : {}),
        ...(valid.startTimeoutMs !== undefined ? { startDeadline: timestampFromMs(nowMs + valid.startTimeoutMs) } : {}),
        rerunOf: opts.rerunOf ?? "",
      },
      // Kept for RerunTask (without the key: a rerun is a new request).
      request: { ...clone(CreateTaskRequestSchema, req), idempotencyKey: "" },
      requestedSteps: opts.steps ?? 0,
      tenantId: caller.tenantId,
      pool,
      requestHash: hash,
      // Every later span of this task, in every service, joins this trace.
      traceParent: currentTraceParent(),
    });
    trace.getActiveSpan()?.setAttributes({ [Attr.taskId]: taskId, [Attr.tenantId]: caller.tenantId });
    // The record, the submission and the scheduler's estimate at once: one round trip, not three.
    // The scheduler waits briefly for a record that its submission overtook, and places a task
    // not filed yet as if it were; a submission whose record was never written finds none and is
    // dropped, so a failed persist queues nothing.
    // Without a key the id is this call's own: no earlier request can have listed it.
    const persisting = timed("persist", () => tasks.create(record, { freshId: key === "" }));
    const publishing = timed("publish", () => deps.submissions.submit({ taskId, tenantId: caller.tenantId, pool }));
    const estimate = deps.project?.(record.task ?? create(TaskSchema), caller.tenantId).catch(() => undefined);
    const [persisted, published] = await Promise.allSettled([persisting, publishing]);
    if (persisted.status === "rejected") {
      place.release();
      // Two retries with one key may both get here; the first write wins.
      const existing = key !== "" ? await replay(caller, taskId) : null;
      if (existing) return { record: existing };
      throw persisted.reason;
    }
    if (published.status === "rejected") {
      // The task is durable already: its record and its place in the active-task index are
      // written, and the scheduler's sweep files an active task whose submission never arrived
      // (within a sweep interval). Failing it here would race a publish that timed out but
      // landed, and an answer of UNAVAILABLE would make a client without an idempotency key
      // submit the same work twice.
      log.warn(
        { err: published.reason, task_id: taskId },
        "submission not published; the scheduler's sweep picks the task up",
      );
    }
    place.confirm();
    log.info(
      {
        task_id: taskId,
        tenant_id: caller.tenantId,
        pool,
        resolution: valid.params.resolution,
        frames: valid.params.numFrames,
      },
      "task queued",
    );
    const projected = await estimate;
    return projected ? { record, estimate: projected } : { record };
  };
}

function sameKeyOtherRequest(): ConnectError {
  return new ConnectError("this idempotency key was already used with a different request", Code.AlreadyExists);
}
