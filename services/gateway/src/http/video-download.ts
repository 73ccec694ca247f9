import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { ObjectStore } from "@nats-io/obj";
import { isTaskId, type Logger, type TaskStore } from "@t2v/common";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { parseByteRange } from "./byte-range.js";

type Fallback = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
type Req = Parameters<Fallback>[0];
type Res = Parameters<Fallback>[1];

const VIDEO_PATH = /^\/v1\/videos\/([0-9a-f-]{36})\.mp4$/;

/**
 * GET and HEAD of a finished video, with single byte ranges, streamed from the
 * object store without buffering the whole file.
 */
export function createVideoDownload(deps: { tasks: TaskStore; videos: ObjectStore; log: Logger }) {
  return async function serveVideo(req: Req, res: Res, path: string): Promise<boolean> {
    const m = VIDEO_PATH.exec(path);
    if (!m) return false;
    const taskId = m[1] ?? "";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return true;
    }
    const found = isTaskId(taskId) ? await deps.tasks.get(taskId) : null;
    const record = found?.record;
    const info = record?.videoObject ? await deps.videos.info(record.videoObject) : null;
    if (!record || record.task?.status !== TaskStatus.COMPLETED || !info) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "video not found" }));
      return true;
    }
    const size = info.size;
    const range = parseByteRange(headerOf(req, "range"), size);
    const common = {
      "content-type": "video/mp4",
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
    const obj = await deps.videos.get(record.videoObject);
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
