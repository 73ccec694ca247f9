import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import type { Logger } from "@t2v/common";

/**
 * Errors that are not ConnectErrors come from our dependencies (NATS down,
 * a KV timeout): they are worth a retry, so they answer UNAVAILABLE rather
 * than leaking as INTERNAL with the dependency's message.
 */
export function unavailableInterceptor(log: Logger): Interceptor {
  const map = (err: unknown, procedure: string): ConnectError => {
    if (err instanceof ConnectError) return err;
    log.error({ err, procedure }, "call failed on a dependency");
    return new ConnectError("the service is temporarily unavailable; please retry", Code.Unavailable);
  };
  return (next) => async (req) => {
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      throw map(err, req.url);
    }
    if (!res.stream) return res;
    const inner = res.message;
    async function* guarded(): AsyncIterable<unknown> {
      try {
        yield* inner;
      } catch (err) {
        throw map(err, req.url);
      }
    }
    return { ...res, message: guarded() } as StreamResponse;
  };
}
