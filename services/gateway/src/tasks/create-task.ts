import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { JetStreamClient } from "@nats-io/jetstream";
import { trace } from "@opentelemetry/api";
import {
  Attr,
  currentTraceParent,
  endTask,
  type FieldViolation,
  invalidArgument,
  type Logger,
  newTaskId,
  publishProto,
  Subjects,
  type TaskStore,
} from "@t2v/common";
import { TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type CreateTaskRequest, CreateTaskRequestSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Caller } from "../auth/caller.js";
import { normalizeCreateRequest } from "../domain/normalize-create-request.js";
import { requestHash } from "../domain/request-hash.js";
import { checkContract } from "../validation/contract-check.js";
import type { AllowList } from "../webhooks/allow-list.js";
import { type Resolver, resolveWebhookTarget } from "../webhooks/resolve-webhook-target.js";
import { checkWebhookUrlForm } from "../webhooks/webhook-target.js";
import type { Admission } from "./admission.js";
import type { IdempotencyStore } from "./idempotency.js";

export interface CreateTaskDeps {
  tasks: TaskStore;
  js: JetStreamClient;
  log: Logger;
  randomSeed: () => number;
  idempotency: IdempotencyStore;
  admit: Admission;
  webhookAllow: AllowList;
  resolve: Resolver;
}

export type CreateTask = (caller: Caller, req: CreateTaskRequest) => Promise<TaskRecord>;

/**
 * The CreateTask use case, shared by every protocol: validate, replay an
 * idempotent retry, admit, persist, queue. The pool is the caller's tier.
 */
export function createTaskUseCase(deps: CreateTaskDeps): CreateTask {
  const { tasks, log } = deps;

  /**
   * The contract (protovalidate rules) first, then the semantic checks. The
   * RPC interceptor has already checked the contract, but this also covers
   * REST and an idempotency key taken from the Idempotency-Key header.
   */
  async function validate(req: CreateTaskRequest) {
    checkContract(CreateTaskRequestSchema, req);
    const result = normalizeCreateRequest(req, deps.randomSeed);
    const violations: FieldViolation[] = result.ok ? [] : [...result.violations];
    if (req.webhookUrl !== "") {
      const form = checkWebhookUrlForm(req.webhookUrl, deps.webhookAllow);
      const target = form.ok ? await resolveWebhookTarget(form.url, deps.webhookAllow, deps.resolve) : form;
      if (!target.ok) violations.push({ field: "webhook_url", description: target.reason });
    }
    if (!result.ok || violations.length > 0) throw invalidArgument(violations);
    return result;
  }

  async function replay(caller: Caller, taskId: string): Promise<TaskRecord | null> {
    const found = await tasks.get(taskId);
    return found && found.record.tenantId === caller.tenantId ? found.record : null;
  }

  return async (caller, req) => {
    const valid = await validate(req);
    const hash = requestHash(req);
    const key = req.idempotencyKey;

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
    await deps.admit(caller.tenantId, caller.tier);
    if (key !== "") {
      const claim = await deps.idempotency.claim(caller.tenantId, key, taskId, hash);
      if (claim.requestHash !== hash) throw sameKeyOtherRequest();
      taskId = claim.taskId;
    }

    const nowMs = Date.now();
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
      },
      tenantId: caller.tenantId,
      pool,
      requestHash: hash,
      // Every later span of this task, in every service, joins this trace.
      traceParent: currentTraceParent(),
    });
    trace.getActiveSpan()?.setAttributes({ [Attr.taskId]: taskId, [Attr.tenantId]: caller.tenantId });
    try {
      await tasks.create(record);
    } catch (err) {
      // Two retries with one key may both get here; the first write wins.
      const existing = key !== "" ? await replay(caller, taskId) : null;
      if (existing) return existing;
      throw err;
    }
    try {
      await publishProto(
        deps.js,
        Subjects.submit(pool),
        TaskSubmittedSchema,
        create(TaskSubmittedSchema, { taskId, tenantId: caller.tenantId, pool, attempt: 1 }),
        { msgId: `submit:${taskId}:1`, taskId },
      );
    } catch (err) {
      log.error({ err, task_id: taskId }, "could not queue task");
      await tasks.update(taskId, (r) =>
        endTask(r, TaskStatus.FAILED, { errorMessage: "could not be queued; please retry" }),
      );
      throw new ConnectError("the task queue is unavailable; please retry", Code.Unavailable);
    }
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
    return record;
  };
}

function sameKeyOtherRequest(): ConnectError {
  return new ConnectError("this idempotency key was already used with a different request", Code.AlreadyExists);
}
