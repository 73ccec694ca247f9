import { setTimeout as sleep } from "node:timers/promises";
import { ConnectError } from "@connectrpc/connect";
import type { BlobInfo, BlobStore, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { parseByteRange } from "../../domain/byte-range.js";
import type { DownloadLimits } from "../../domain/download-limits.js";
import { checkDownloadSignature } from "../../domain/signed-url.js";
import { findOwnTask } from "../../use-cases/get-task-for-caller.js";
import type { Guard } from "../../use-cases/guard.js";
import { type HttpRequest, type HttpResponse, type HttpRoute, header, sendJson } from "./node-http.js";

const FILE_PATH = /^\/v1\/videos\/([0-9a-f-]{36})\.(mp4|jpg)$/;

const CONTENT_TYPES = { mp4: "video/mp4", jpg: "image/jpeg" } as const;

type Ext = keyof typeof CONTENT_TYPES;

export interface VideoDownloadDeps {
  tasks: TaskStore;
  videos: BlobStore;
  guard: Guard;
  secret: Uint8Array;
  now: () => number;
  limits: DownloadLimits;
  /** A download whose client has not taken a written chunk for this long is closed (its slot freed). */
  stallMs: number;
}

/** Seconds a download refused for concurrency is told to wait: slots free as soon as a download ends. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/** Writes are paced in pieces of at most this much, so a low rate comes out smooth rather than in bursts. */
const PACE_PIECE_BYTES = 64 * 1024;

/**
 * GET and HEAD of a finished video or its poster, with single byte ranges,
 * streamed from the object store without buffering the whole file. A link
 * is authorised by its signature (no API key needed: it can go into a video
 * tag) or, unsigned, by the owning tenant's API key. A bad or expired
 * signature answers 403; another tenant's task answers 404, like a missing one.
 * The store is read from the range's offset, a few chunks ahead of what the
 * client has taken (a client that stops reading holds about a megabyte, and is
 * closed after `stallMs`). Downloads are capped per tenant (the task's owner)
 * and per file, in number (429 with Retry-After) and in bytes per second (paced).
 */
export function createVideoDownload(deps: VideoDownloadDeps): HttpRoute {
  /** The tenant allowed to read (null: any, the link is signed), or the refusal already sent. */
  async function authorize(req: HttpRequest, res: HttpResponse, url: URL, file: string): Promise<string | null | true> {
    if (url.searchParams.has("sig") || url.searchParams.has("exp")) {
      const check = checkDownloadSignature(
        deps.secret,
        file,
        url.searchParams.get("exp"),
        url.searchParams.get("sig"),
        Math.floor(deps.now() / 1000),
      );
      if (check === "valid") return null;
      return sendJson(res, 403, { error: check === "expired" ? "this link has expired" : "bad signature" });
    }
    try {
      return (await deps.guard.identify(header(req, "authorization"))).tenantId;
    } catch (err) {
      return sendJson(res, 401, { error: ConnectError.from(err).rawMessage });
    }
  }

  /** The stored object of a completed task, or null. */
  async function findObject(
    record: TaskRecord | undefined,
    ext: Ext,
  ): Promise<{ name: string; info: BlobInfo } | null> {
    const name = ext === "jpg" ? record?.posterObject : record?.videoObject;
    if (!record || !name || record.task?.status !== TaskStatus.COMPLETED) return null;
    const info = await deps.videos.info(name);
    return info ? { name, info } : null;
  }

  return async function serveVideo(req, res, url) {
    const m = FILE_PATH.exec(url.pathname);
    if (!m) return false;
    const taskId = m[1] ?? "";
    const ext: Ext = m[2] === "jpg" ? "jpg" : "mp4";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return true;
    }
    const tenantId = await authorize(req, res, url, `${taskId}.${ext}`);
    if (tenantId === true) return true;
    const found = await findOwnTask(deps.tasks, tenantId, taskId);
    const object = await findObject(found?.record, ext);
    if (!found || !object) return sendJson(res, 404, { error: ext === "jpg" ? "poster not found" : "video not found" });
    const owner = found.record.tenantId;
    const link = `${taskId}.${ext}`;
    const verdict = req.method === "HEAD" ? "ok" : deps.limits.tryStart(owner, link);
    if (verdict === "gateway") {
      // Not the tenant's doing: the gateway is busy; another replica, or this one in a moment, serves it.
      return sendJson(
        res,
        503,
        { error: "too many downloads in this gateway at once" },
        { "retry-after": String(BUSY_RETRY_AFTER_SECONDS) },
      );
    }
    if (verdict !== "ok") {
      return sendJson(
        res,
        429,
        {
          error:
            verdict === "tenant"
              ? "too many downloads of this tenant at once"
              : "too many downloads of this file at once",
        },
        { "retry-after": String(BUSY_RETRY_AFTER_SECONDS) },
      );
    }
    try {
      const pace = async (bytes: number): Promise<void> => {
        const waitMs = deps.limits.pace(owner, link, bytes, deps.now());
        if (waitMs > 0) await sleep(waitMs);
      };
      await sendRange(req, res, deps.videos, object, CONTENT_TYPES[ext], { pace, stallMs: deps.stallMs });
    } finally {
      if (req.method !== "HEAD") deps.limits.finish(owner, link);
    }
    return true;
  };
}

interface Sending {
  /** Resolves once `bytes` may be sent. */
  pace(bytes: number): Promise<void>;
  stallMs: number;
}

/** The whole object or the one range asked for, with back-pressure; HEAD sends the headers only. */
async function sendRange(
  req: HttpRequest,
  res: HttpResponse,
  videos: BlobStore,
  object: { name: string; info: BlobInfo },
  contentType: string,
  sending: Sending,
): Promise<void> {
  const size = object.info.size;
  const range = parseByteRange(header(req, "range"), size);
  const common = {
    "content-type": contentType,
    "accept-ranges": "bytes",
    etag: `"${object.info.digest}"`,
    "cache-control": "private, max-age=3600",
  };
  if (range.kind === "unsatisfiable") {
    res.writeHead(416, { ...common, "content-range": `bytes */${size}` });
    res.end();
    return;
  }
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : size - 1;
  res.writeHead(range.kind === "partial" ? 206 : 200, {
    ...common,
    "content-length": String(end - start + 1),
    ...(range.kind === "partial" ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === "HEAD" || end < start) {
    res.end();
    return;
  }
  const chunks = await videos.stream(object.name, { offset: start, length: end - start + 1 });
  if (!chunks) {
    res.destroy();
    return;
  }
  try {
    for await (const chunk of chunks) {
      for (let at = 0; at < chunk.length; at += PACE_PIECE_BYTES) {
        const piece = chunk.subarray(at, at + PACE_PIECE_BYTES);
        await sending.pace(piece.length);
        if (!(await write(res, piece, sending.stallMs))) return;
      }
    }
  } catch (err) {
    // The store failed mid-body: the status line is gone, so all a client can be told is a cut connection.
    res.destroy();
    throw err;
  }
  res.end();
}

/** Writes with back-pressure; false when the client went away or took nothing for `stallMs` (then it is closed). */
function write(res: HttpResponse, chunk: Uint8Array, stallMs: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = (): void => done(true);
    const onClose = (): void => done(false);
    const timer = setTimeout(() => {
      done(false);
      res.destroy();
    }, stallMs);
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}
