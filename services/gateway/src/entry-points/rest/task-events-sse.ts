import { create } from "@bufbuild/protobuf";
import { GetTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { linkSignals } from "@t2v/common/process";
import type { Caller } from "../../domain/caller.js";
import { checkContract } from "../../domain/check-contract.js";
import type { GetTaskForCaller } from "../../use-cases/get-task-for-caller.js";
import type { Guard } from "../../use-cases/guard.js";
import type { TaskWatchHub } from "../../use-cases/task-watch-hub.js";
import type { StreamLease, WatchStreams } from "../../use-cases/watch-streams.js";
import { asServiceError } from "../dependency-failure.js";
import { clientAddress } from "../http/client-address.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, header, sendJson } from "../http/node-http.js";
import { errorResponse } from "./error-response.js";
import { statusBody } from "./t2v-rest-api.js";

export const TASK_EVENTS_PATH = "/v1/t2v/events";

/** Proxies and load balancers drop connections idle for 30-60 s; a comment every 15 s keeps the stream open. */
const KEEP_ALIVE_MS = 15_000;
/** Sent as `retry:` so EventSource-style clients wait this long before reconnecting. */
const RECONNECT_HINT_MS = 3_000;

export interface TaskEventsSseDeps {
  guard: Pick<Guard, "admit">;
  /** The caller's own task (NOT_FOUND otherwise), as every protocol checks it. */
  getTask: GetTaskForCaller;
  /** The gateway's shared watch of each task (with queue positions and ETAs while queued). */
  hub: Pick<TaskWatchHub, "open">;
  /** Caps per key and tenant, revocation, slow readers: as for WatchTask. */
  streams: Pick<WatchStreams, "open">;
  /** Aborts on gateway shutdown: open streams end. */
  stopping: AbortSignal;
  log: Logger;
  keepAliveMs?: number;
}

/**
 * GET /v1/t2v/events?task_id=... as Server-Sent Events for REST and curl users:
 * one event per change of the task record (data = the /v1/t2v/status JSON,
 * id = the record's revision, so `Last-Event-ID` resumes after the last one
 * seen), keep-alive comments, and the end of the stream after a terminal
 * state. The key comes only in `Authorization: Bearer`, never in the URL,
 * where logs and browser history would keep it.
 */
export function createTaskEventsSse(deps: TaskEventsSseDeps): HttpRoute {
  const keepAliveMs = deps.keepAliveMs ?? KEEP_ALIVE_MS;
  return async function serveTaskEvents(req, res, url) {
    if (url.pathname !== TASK_EVENTS_PATH) return false;
    if (req.method !== "GET") {
      const message = "use GET";
      return sendJson(res, 405, { detail: message, error: { code: "method_not_allowed", message } }, { allow: "GET" });
    }
    const taskId = url.searchParams.get("task_id") ?? "";
    let lease: StreamLease;
    try {
      const caller: Caller = await deps.guard.admit(header(req, "authorization"), clientAddress(req));
      checkContract(GetTaskRequestSchema, create(GetTaskRequestSchema, { taskId }));
      await deps.getTask(caller, taskId);
      lease = deps.streams.open(caller, {
        bufferedBytes: () => res.writableLength,
        destroy: () => res.destroy(),
      });
    } catch (err) {
      const r = errorResponse(asServiceError(err, deps.log, { path: TASK_EVENTS_PATH }));
      return sendJson(res, r.status, r.body, r.headers);
    }
    try {
      await stream(req, res, taskId, lastEventId(req), lease);
    } finally {
      lease.close();
    }
    return true;
  };

  async function stream(
    req: HttpRequest,
    res: HttpResponse,
    taskId: string,
    after: number,
    lease: StreamLease,
  ): Promise<void> {
    const local = new AbortController();
    const linked = linkSignals([deps.stopping, local.signal, lease.signal]);
    const { signal } = linked;
    const close = (): void => local.abort();
    res.on("close", close);
    req.on("close", close);
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx and similar proxies buffer responses unless told not to.
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${RECONNECT_HINT_MS}\n\n`);
    // A comment only while the client keeps up: one that is not reading gets nothing more queued.
    const keepAlive = setInterval(() => {
      if (!res.writableNeedDrain) res.write(": keep-alive\n\n");
    }, keepAliveMs);
    const feed = deps.hub.open(taskId);
    lease.follow(feed);
    try {
      for (let s = await feed.next(signal); s; s = await feed.next(signal)) {
        const { task, revision } = s.value;
        if (revision > after) {
          // The next state waits in the feed (the newest only) until this one is taken by the socket.
          if (!res.write(`id: ${revision}\ndata: ${JSON.stringify(statusBody(task))}\n\n`)) await drained(res, signal);
        }
        if (s.terminal) break;
      }
    } catch (err) {
      // The client reconnects with Last-Event-ID and misses nothing.
      if (!signal.aborted) deps.log.warn({ err, task_id: taskId }, "task event stream failed");
    } finally {
      feed.close();
      clearInterval(keepAlive);
      res.off("close", close);
      req.off("close", close);
      local.abort();
      linked.dispose();
      res.end();
    }
  }
}

/** Resolves once the response drains, the signal aborts or the response closes. */
function drained(res: HttpResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The revision after which to resume; 0 (everything) when absent or not a number. */
function lastEventId(req: HttpRequest): number {
  const v = Number(header(req, "last-event-id") ?? "");
  return Number.isSafeInteger(v) && v > 0 ? v : 0;
}
