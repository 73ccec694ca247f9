import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import {
  DeleteTaskRequestSchema,
  GetTaskRequestSchema,
  ResultState,
  type Task,
  TaskStatus,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { statusName } from "@t2v/common/task";
import { applyEstimate, type Estimator } from "../../adapters/queue-estimates.js";
import { checkContract } from "../../domain/check-contract.js";
import type { CreateTask } from "../../use-cases/create-task.js";
import type { DeleteTask } from "../../use-cases/delete-task.js";
import type { GetTaskForCaller } from "../../use-cases/get-task-for-caller.js";
import type { Guard } from "../../use-cases/guard.js";
import { asServiceError } from "../dependency-failure.js";
import { clientAddress } from "../http/client-address.js";
import { dropUnreadAfter } from "../http/drop-unread.js";
import { type HttpResponse, type HttpRoute, header, sendJson } from "../http/node-http.js";
import { errorResponse } from "./error-response.js";
import { parseGenerateBody } from "./parse-generate-body.js";
import { readBody } from "./read-body.js";

export interface T2vRestDeps {
  guard: Guard;
  createTask: CreateTask;
  getTask: GetTaskForCaller;
  deleteTask: DeleteTask;
  view: (r: TaskRecord) => Promise<Task>;
  estimate: Estimator;
  log: Logger;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

/**
 * The REST compatibility API, as existing Python clients call it:
 *   POST /v1/t2v/generate  {prompt, negative_prompt, resolution, duration, frame_rate, style} -> {"task_id"}
 *   GET  /v1/t2v/status?task_id=...  -> {status, progress, result_url, error_message, result_state, ...}
 *   DELETE /v1/t2v/tasks/<task_id>   -> the same body, result_state "deleted" (DeleteTask: owner only)
 * Same auth, limits and validation as the RPC API.
 */
export function createT2vRestApi(deps: T2vRestDeps): HttpRoute {
  return async function serveRest(req, res, url) {
    const route = url.pathname;
    const deleting = route.startsWith(TASKS_PREFIX);
    if (route !== "/v1/t2v/generate" && route !== "/v1/t2v/status" && !deleting) return false;
    try {
      if (deleting) {
        if (req.method !== "DELETE") return methodNotAllowed(res, "DELETE");
        const caller = await deps.guard.admit(header(req, "authorization"));
        // Not decoded: a task id is a UUID, anything else reads NOT_FOUND like a missing task.
        const taskId = route.slice(TASKS_PREFIX.length);
        checkContract(DeleteTaskRequestSchema, create(DeleteTaskRequestSchema, { taskId }));
        return sendJson(res, 200, statusBody(await deps.view(await deps.deleteTask(caller, taskId))));
      }
      if (route === "/v1/t2v/generate") {
        if (req.method !== "POST") return methodNotAllowed(res, "POST");
        const caller = await deps.guard.admit(header(req, "authorization"), clientAddress(req));
        const request = parseGenerateBody(await readBody(req, deps.maxBodyBytes, deps.bodyTimeoutMs));
        const idem = header(req, "idempotency-key");
        if (idem !== undefined) request.idempotencyKey = idem;
        // createTask checks the contract, then the semantic rules.
        const created = await deps.createTask(caller, request);
        const task = await deps.view(created.record);
        if (created.estimate) applyEstimate(task, created.estimate);
        return sendJson(res, 200, { ...statusBody(task), task_id: task.taskId });
      }
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET");
      const caller = await deps.guard.admit(header(req, "authorization"), clientAddress(req));
      const taskId = url.searchParams.get("task_id") ?? "";
      checkContract(GetTaskRequestSchema, create(GetTaskRequestSchema, { taskId }));
      const task = await deps.view((await deps.getTask(caller, taskId)).record);
      await deps.estimate([task]);
      return sendJson(res, 200, statusBody(task));
    } catch (err) {
      const r = errorResponse(asServiceError(err, deps.log, { path: route }));
      // Refused before its body was read: the client may still be sending it.
      if (!req.complete) dropUnreadAfter(req, res);
      if (!res.headersSent) sendJson(res, r.status, r.body, r.headers);
      else res.end();
      return true;
    }
  };
}

const TASKS_PREFIX = "/v1/t2v/tasks/";

const RESULT_STATES: Partial<Record<ResultState, string>> = {
  [ResultState.AVAILABLE]: "available",
  [ResultState.EXPIRED]: "expired",
  [ResultState.DELETED]: "deleted",
};

/**
 * ENCODING is our own split of the legacy "processing" state. PAUSED reads
 * "paused": a legacy client polling for "completed" or "failed" keeps
 * polling, and pause_expire_time says until when.
 */
function legacyStatus(s: TaskStatus): string {
  return s === TaskStatus.ENCODING ? "processing" : statusName(s);
}

function iso(t: Parameters<typeof timestampDate>[0] | undefined): string | null {
  return t ? timestampDate(t).toISOString() : null;
}

/** The JSON of GET /v1/t2v/status (also the data of each SSE event). */
export function statusBody(t: Task): Record<string, unknown> {
  const queued = t.status === TaskStatus.QUEUED;
  return {
    task_id: t.taskId,
    status: legacyStatus(t.status),
    progress: t.progress,
    result_url: t.resultUrl || null,
    poster_url: t.posterUrl || null,
    error_message: t.errorMessage || null,
    error_code: t.errorCode || null,
    tier: t.tier,
    queue_position: queued && t.estimatedStartTime ? t.queuePosition : null,
    estimated_start_time: iso(t.estimatedStartTime),
    estimated_finish_time: iso(t.estimatedFinishTime),
    create_time: iso(t.createTime),
    finish_time: iso(t.finishTime),
    result_expire_time: iso(t.resultExpireTime),
    // Why a finished task has no result_url: "expired" or "deleted" (null while it runs).
    result_state: RESULT_STATES[t.resultState] ?? null,
    pause_expire_time: iso(t.pauseExpireTime),
    priority: t.priority,
  };
}

function methodNotAllowed(res: HttpResponse, allow: string): true {
  return sendJson(
    res,
    405,
    { detail: `use ${allow}`, error: { code: "method_not_allowed", message: `use ${allow}` } },
    { allow },
  );
}
