import { ConnectError } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { ObjectStore } from "@nats-io/obj";
import { isTaskId, type Logger, type TaskStore } from "@t2v/common";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Guard } from "../auth/guard.js";
import { parseByteRange } from "./byte-range.js";
import { checkDownloadSignature } from "./signed-url.js";

type Fallback = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type Req = Parameters<Fallback>[0];
type Res = Parameters<Fallback>[1];

const FILE_PATH = /^\/v1\/videos\/([0-9a-f-]{36})\.(mp4|jpg)$/;

const CONTENT_TYPES = { mp4: "video/mp4", jpg: "image/jpeg" } as const;

/**
 * GET and HEAD of a finished video or its poster, with single byte ranges,
 * streamed from the object store without buffering the whole file. A link
 * is authorised by its signature (no API key needed: it can go into a video
 * tag) or, unsigned, by the owning tenant's API key. A bad or expired
 * signature answers 403; another tenant's task answers 404, like a missing one.
 */
export function createVideoDownload(deps: {
  tasks: TaskStore;
  videos: ObjectStore;
  log: Logger;
  guard: Guard;
  secret: Uint8Array;
}) {
  return async function serveVideo(req: Req, res: Res, url: URL): Promise<boolean> {
    const m = FILE_PATH.exec(url.pathname);
    if (!m) return false;
    const taskId = m[1] ?? "";
    const ext = m[2] === "jpg" ? "jpg" : "mp4";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return true;
    }
    const signed = url.searchParams.has("sig") || url.searchParams.has("exp");
    let tenantId: string | null = null;
    if (signed) {
      const check = checkDownloadSignature(
        deps.secret,
        `${taskId}.${ext}`,
        url.searchParams.get("exp"),
        url.searchParams.get("sig"),
        Math.floor(Date.now() / 1000),
      );
      if (check !== "valid") return json(res, 403, check === "expired" ? "this link has expired" : "bad signature");
    } else {
      try {
        tenantId = (await deps.guard.identify(headerOf(req, "authorization"))).tenantId;
      } catch (err) {
        return json(res, 401, ConnectError.from(err).rawMessage);
      }
    }
    const found = isTaskId(taskId) ? await deps.tasks.get(taskId) : null;
    const record = found && (tenantId === null || found.record.tenantId === tenantId) ? found.record : undefined;
    const object = ext === "jpg" ? record?.posterObject : record?.videoObject;
    const info = object ? await deps.videos.info(object) : null;
    if (!record || !object || record.task?.status !== TaskStatus.COMPLETED || !info) {
      return json(res, 404, ext === "jpg" ? "poster not found" : "video not found");
    }
    const size = info.size;
    const range = parseByteRange(headerOf(req, "range"), size);
    const common = {
      "content-type": CONTENT_TYPES[ext],
      "accept-ranges": "bytes",
      etag: `"${info.digest}"`,
      "cache-control": "private, max-age=3600",
    };
    if (range.kind === "unsatisfiable") {
      res.writeHead(416, { ...common, "content-range": `bytes */${size}` });
      res.end();
      return true;
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
      return true;
    }
    const obj = await deps.videos.get(object);
    if (!obj) {
      res.destroy();
      return true;
    }
    let offset = 0;
    for await (const chunk of obj.data) {
      const from = Math.max(start - offset, 0);
      const to = Math.min(end + 1 - offset, chunk.length);
      offset += chunk.length;
      if (to > from && !(await write(res, chunk.subarray(from, to)))) break;
      if (offset > end) break;
    }
    res.end();
    return true;
  };
}

function json(res: Res, status: number, message: string): true {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: message }));
  return true;
}

function headerOf(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Writes with back-pressure; false when the client went away. */
function write(res: Res, chunk: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve(false);
    const ok = res.write(chunk);
    if (ok) return resolve(true);
    res.once("drain", () => resolve(true));
    res.once("close", () => resolve(false));
  });
}
