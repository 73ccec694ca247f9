import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import type { Logger } from "@t2v/common/logger";
import { asServiceError } from "../dependency-failure.js";
import { wrapStream } from "./wrapped-stream.js";

/** A dependency's failure, in a unary call or mid-stream, answers UNAVAILABLE (see `asServiceError`). */
export function unavailableInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      throw asServiceError(err, log, { procedure: req.url });
    }
    if (!res.stream) return res;
    const failed = (err: unknown) => asServiceError(err, log, { procedure: req.url });
    return { ...res, message: wrapStream(res.message, { failed }) } as StreamResponse;
  };
}
