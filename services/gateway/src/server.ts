import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createOnePortServer, type OnePortServer } from "@t2v/common";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createVideoDownload } from "./http/video-download.js";
import { createVideoService, type VideoServiceDeps } from "./video-service.js";

export interface GatewayDeps extends VideoServiceDeps {
  videos: Parameters<typeof createVideoDownload>[0]["videos"];
  isReady: () => boolean;
}

/** Largest request body accepted on any protocol; prompts are small. */
const READ_MAX_BYTES = 64 * 1024;

/** Routes and server, not yet listening, so tests can start it in-process. */
export function buildGateway(deps: GatewayDeps): OnePortServer {
  const serveVideo = createVideoDownload({ tasks: deps.tasks, videos: deps.videos, log: deps.log });
  const handler = connectNodeAdapter({
    readMaxBytes: READ_MAX_BYTES,
    routes: (router) => router.service(VideoService, createVideoService(deps)),
    fallback: (req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/healthz" || path === "/readyz") {
        const ok = path === "/healthz" || deps.isReady();
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
        res.end(ok ? "ok\n" : "not ready\n");
        return;
      }
      serveVideo(req, res, path).then(
        (handled) => {
          if (handled) return;
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: `no route for ${req.method} ${path}` }));
        },
        (err: unknown) => {
          deps.log.error({ err, path }, "download failed");
          if (!res.headersSent) res.writeHead(500);
          res.end();
        },
      );
    },
  });
  return createOnePortServer(handler);
}
