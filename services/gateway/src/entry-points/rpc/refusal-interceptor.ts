import type { Interceptor } from "@connectrpc/connect";
import { refusalKey } from "./caller-context.js";

/**
 * Throws the error the node adapter refused a call with, so connect-es answers
 * it in the call's protocol (gRPC trailers, Connect JSON, gRPC-Web) with its details.
 */
export function refusalInterceptor(): Interceptor {
  return (next) => async (req) => {
    const refused = req.contextValues.get(refusalKey);
    if (refused) throw refused;
    return next(req);
  };
}
