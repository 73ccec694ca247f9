import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { isTaskId, type Logger, notFound, statusName, type TaskStore } from "@t2v/common";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { GetTaskRequestSchema, type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Guard } from "../auth/guard.js";
import type { CreateTask } from "../tasks/create-task.js";
import type { Estimator } from "../tasks/queue-estimates.js";
import { checkContract } from "../validation/contract-check.js";
import { errorResponse } from "./error-response.js";
import { parseGenerateBody } from "./parse-generate-body.js";

type Fallback = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type Req = Parameters<Fallback>[0];
type Res = Parameters<Fallback>[1];

export interface BriefRestDeps {
  guard: Guard;
  createTask: CreateTask;
  tasks: TaskStore;
  view: (r: TaskRecord) => Task;
  estimate: Estimator;
  log: Logger;
  maxBodyBytes: number;
}

/**
 * The brief's REST API, as its Python client calls it:
 *   POST /v1/t2v/generate  {prompt, negative_prompt, resolution, duration, frame_rate, style} -> {"task_id"}
 *   GET  /v1/t2v/status?task_id=...  -> {status, progress, result_url, error_message, ...}
 * Same auth, limits and validation as the RPC API.
 */
export function createBriefRestApi(deps: BriefRestDeps) {
  return async function serveRest(req: Req, res: Res, url: URL): Promise<boolean> {
    const route = url.pathname;
    if (route !== "/v1/t2v/generate" && route !== "/v1/t2v/status") return false;
    try {
      if (route === "/v1/t2v/generate") {
        if (req.method !== "POST") return methodNotAllowed(res, "POST");
        const caller = await deps.guard.admit(header(req, "authorization"));
        const body = await readBody(req, deps.maxBodyBytes);
        const request = parseGenerateBody(body);
        const idem = header(req, "idempotency-key");
        if (idem !== undefined) request.idempotencyKey = idem;
        // createTask checks the contract, then the semantic rules.
        const record = await deps.createTask(caller, request);
        const task = deps.view(record);
        send(res, 200, { ...statusBody(task), task_id: task.taskId });
        return true;
      }
      if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(res, "GET");
      const caller = await deps.guard.admit(header(req, "authorization"));
      const taskId = url.searchParams.get("task_id") ?? "";
      checkContract(GetTaskRequestSchema, create(GetTaskRequestSchema, { taskId }));
      const found = isTaskId(taskId) ? await deps.tasks.get(taskId) : null;
      if (!found || found.record.tenantId !== caller.tenantId) throw notFound(`task ${taskId}`);
      const task = deps.view(found.record);
      await deps.estimate([task]);
      send(res, 200, statusBody(task));
    } catch (err) {
      let e = err;
      if (!(err instanceof ConnectError)) {
        deps.log.error({ err, path: route }, "REST call failed on a dependency");
        e = new ConnectError("the service is temporarily unavailable; please retry", Code.Unavailable);
      }
      const r = errorResponse(e);
      if (!res.headersSent) send(res, r.status, r.body, r.headers);
      else res.end();
    }
    return true;
  };
}

/** ENCODING is our own split of the brief's "processing". */
function briefStatus(s: TaskStatus): string {
  return s === TaskStatus.ENCODING ? "processing" : statusName(s);
}

function iso(t: Parameters<typeof timestampDate>[0] | undefined): string | null {
  return t ? timestampDate(t).toISOString() : null;
}

function statusBody(t: Task): Record<string, unknown> {
  const queued = t.status === TaskStatus.QUEUED;
  return {
    task_id: t.taskId,
    status: briefStatus(t.status),
    progress: t.progress,
    result_url: t.resultUrl || null,
    poster_url: t.posterUrl || null,
    error_message: t.errorMessage || null,
    tier: t.tier,
    queue_position: queued && t.estimatedStartTime ? t.queuePosition : null,
    estimated_start_time: iso(t.estimatedStartTime),
    estimated_finish_time: iso(t.estimatedFinishTime),
    create_time: iso(t.createTime),
    finish_time: iso(t.finishTime),
    result_expire_time: iso(t.resultExpireTime),
  };
}

function header(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: Res, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function methodNotAllowed(res: Res, allow: string): true {
  res.writeHead(405, { allow, "content-type": "application/json" });
  res.end(JSON.stringify({ detail: `use ${allow}`, error: { code: "method_not_allowed", message: `use ${allow}` } }));
  return true;
}

/** Reads the body up to `max` bytes; a bigger one is refused without reading it all. */
function readBody(req: Req, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(header(req, "content-length") ?? "0");
    if (declared > max) return reject(tooLarge(max));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(max));
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => reject(new ConnectError("request body could not be read", Code.InvalidArgument)));
  });
}

function tooLarge(max: number): ConnectError {
  return new ConnectError(`request body is over ${max} bytes`, Code.InvalidArgument);
}
