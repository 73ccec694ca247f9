import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health } from "@t2v/common/gen/grpc/health/v1/health_pb";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import type { Guard } from "../../use-cases/guard.js";
import { authInterceptor } from "./auth-interceptor.js";
import { contractInterceptor } from "./contract-interceptor.js";
import { createHealthService } from "./health-service.js";
import { malformedProtobufInterceptor } from "./malformed-protobuf-interceptor.js";
import { createReflectionServices } from "./reflection-service.js";
import { refusalInterceptor } from "./refusal-interceptor.js";
import { KEYLESS_MAX_BYTES } from "./request-body-guard.js";
import type { ServingState } from "./serving-state.js";
import { tracingInterceptor } from "./tracing-interceptor.js";
import { unavailableInterceptor } from "./unavailable-interceptor.js";
import { createVideoService, type VideoServiceDeps } from "./video-service.js";

export interface RoutesDeps extends VideoServiceDeps {
  guard: Guard;
  health: ServingState;
  log: Logger;
}

/**
 * Every RPC service the gateway serves, with its interceptors, in order:
 * a span per call, the node adapter's early refusals, malformed Protobuf refused, dependency failures as
 * UNAVAILABLE, the API key (VideoService only), then the contract. The same
 * routes go to the one-port server and, in tests, to `createRouterTransport`.
 */
export function buildRoutes(deps: RoutesDeps): (router: ConnectRouter) => void {
  const interceptors = [
    tracingInterceptor,
    refusalInterceptor(),
    malformedProtobufInterceptor(),
    unavailableInterceptor(deps.log),
    authInterceptor(deps.guard),
    contractInterceptor(),
  ];
  const reflection = createReflectionServices([VideoService, Health] as DescService[]);
  const names = reflection.services.map((s) => s.typeName);
  return (router) => {
    router.service(VideoService, createVideoService(deps), { interceptors });
    // Anyone may call these: each message is bounded to KEYLESS_MAX_BYTES (after decompression too).
    const keyless = { interceptors, readMaxBytes: KEYLESS_MAX_BYTES };
    router.service(Health, createHealthService(deps.health, names, deps.stopping), keyless);
    router.service(reflection.v1Desc, reflection.v1, keyless);
    router.service(reflection.v1alphaDesc, reflection.v1alpha, keyless);
  };
}
