import type { Interceptor } from "@connectrpc/connect";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Guard } from "../../use-cases/guard.js";
import { callerKey } from "./caller-context.js";

/**
 * Every VideoService call needs an API key (health and reflection do not, so
 * probes and `buf curl --list-services` work without one). Calls that come
 * through the node adapter arrive admitted; in-memory transports are admitted here.
 */
export function authInterceptor(guard: Guard): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== VideoService.typeName) return next(req);
    // Over a socket the node adapter has admitted the caller already, before reading the body.
    if (req.contextValues.get(callerKey)) return next(req);
    const caller = await guard.admit(req.header.get("authorization"));
    req.contextValues.set(callerKey, caller);
    return next(req);
  };
}
