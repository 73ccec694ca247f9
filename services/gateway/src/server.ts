import type { DescService } from "@bufbuild/protobuf";
import type { ObjectStore } from "@nats-io/obj";
import { createOnePortServer, type Logger, type OnePortServer, type TaskStore, tracingInterceptor } from "@t2v/common";
import { Health } from "@t2v/common/gen/grpc/health/v1/health_pb";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { authInterceptor } from "./auth/auth-interceptor.js";
import type { Guard } from "./auth/guard.js";
import { createHealthService } from "./health/health-service.js";
import type { ServingState } from "./health/serving-state.js";
import { createVideoDownload } from "./http/video-download.js";
import { createReflectionServices } from "./reflection/reflection-service.js";
import { type BriefRestDeps, createBriefRestApi } from "./rest/brief-rest-api.js";
import { gatewayNodeAdapter, malformedProtobufInterceptor } from "./rpc/node-adapter.js";
import { unavailableInterceptor } from "./unavailable-interceptor.js";
import { contractInterceptor } from "./validation/contract-check.js";
import { createVideoService, type VideoServiceDeps } from "./video-service.js";

export interface GatewayDeps extends VideoServiceDeps {
  videos: ObjectStore;
  tasks: TaskStore;
  guard: Guard;
  health: ServingState;
  downloadSecret: Uint8Array;
  log: Logger;
}

/** Largest request body accepted on any protocol; prompts are small. */
export const READ_MAX_BYTES = 64 * 1024;

/** Routes and server, not yet listening, so tests can start it in-process. */
export function buildGateway(deps: GatewayDeps): OnePortServer {
  const serveVideo = createVideoDownload({
    tasks: deps.tasks,
    videos: deps.videos,
    log: deps.log,
    guard: deps.guard,
    secret: deps.downloadSecret,
  });
  const restDeps: BriefRestDeps = { ...deps, maxBodyBytes: READ_MAX_BYTES };
  const serveRest = createBriefRestApi(restDeps);
  const reflection = createReflectionServices([VideoService, Health] as DescService[]);
  const names = reflection.services.map((s) => s.typeName);
  const handler = gatewayNodeAdapter({
    readMaxBytes: READ_MAX_BYTES,
    interceptors: [
      tracingInterceptor,
      malformedProtobufInterceptor(),
      unavailableInterceptor(deps.log),
      authInterceptor(deps.guard),
      contractInterceptor(),
    ],
    routes: (router) => {
      router.service(VideoService, createVideoService(deps));
      router.service(Health, createHealthService(deps.health, names, deps.stopping));
      router.service(reflection.v1Desc, reflection.v1);
      router.service(reflection.v1alphaDesc, reflection.v1alpha);
    },
    fallback: (req, res) => {
      let url: URL;
      try {
        url = new URL(req.url ?? "/", "http://x");
      } catch {
        res.writeHead(400);
        res.end();
        return;
      }
      const path = url.pathname;
      if (path === "/healthz" || path === "/readyz") {
        const ok = path === "/healthz" || deps.health.serving;
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
        res.end(ok ? "ok\n" : "not ready\n");
        return;
      }
      (async () => (await serveRest(req, res, url)) || (await serveVideo(req, res, url)))().then(
        (handled) => {
          if (handled) return;
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: `no route for ${req.method} ${path}` }));
        },
        (err: unknown) => {
          deps.log.error({ err, path }, "HTTP request failed");
          if (!res.headersSent) res.writeHead(503, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "temporarily unavailable; please retry" }));
        },
      );
    },
  });
  return createOnePortServer(handler);
}
