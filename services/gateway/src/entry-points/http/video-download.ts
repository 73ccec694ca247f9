import { ConnectError } from "@connectrpc/connect";
import type { BlobInfo, BlobStore, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { parseByteRange } from "../../domain/byte-range.js";
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
}

/**
 * GET and HEAD of a finished video or its poster, with single byte ranges,
 * streamed from the object store without buffering the whole file. A link
 * is authorised by its signature (no API key needed: it can go into a video
 * tag) or, unsigned, by the owning tenant's API key. A bad or expired
 * signature answers 403; another tenant's task answers 404, like a missing one.
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
    if (!object) return sendJson(res, 404, { error: ext === "jpg" ? "poster not found" : "video not found" });
    await sendRange(req, res, deps.videos, object.name, object.info, CONTENT_TYPES[ext]);
    return true;
  };
}

/** The whole object or the one range asked for, with back-pressure; HEAD sends the headers only. */
async function sendRange(
  req: HttpRequest,
  res: HttpResponse,
  videos: BlobStore,
  name: string,
  info: BlobInfo,
  contentType: string,
): Promise<void> {
  const size = info.size;
  const range = parseByteRange(header(req, "range"), size);
  const common = {
    "content-type": contentType,
    "accept-ranges": "bytes",
    etag: `"${info.digest}"`,
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
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const chunks = await videos.stream(name);
  if (!chunks) {
    res.destroy();
    return;
  }
  let offset = 0;
  for await (const chunk of chunks) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end + 1 - offset, chunk.length);
    offset += chunk.length;
    if (to > from && !(await write(res, chunk.subarray(from, to)))) break;
    if (offset > end) break;
  }
  res.end();
}

/** Writes with back-pressure; false when the client went away. */
function write(res: HttpResponse, chunk: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve(false);
    const ok = res.write(chunk);
    if (ok) return resolve(true);
    res.once("drain", () => resolve(true));
    res.once("close", () => resolve(false));
  });
}
