import type { Interceptor } from "@connectrpc/connect";
import { type Context, context, propagation, ROOT_CONTEXT, type Span, SpanKind, trace } from "@opentelemetry/api";
import { recordFailure, tracer } from "@t2v/common/telemetry";
import { wrapStream } from "./wrapped-stream.js";

/**
 * A server span per RPC (Connect's HTTP/2 server is not covered by the http
 * instrumentation), continuing the caller's W3C trace context. For server
 * streams the span lasts until the stream ends, and the handler's generator
 * runs inside it, so its own spans and logs join the trace.
 */
export const tracingInterceptor: Interceptor = (next) => async (req) => {
  const parent = propagation.extract(ROOT_CONTEXT, req.header, {
    get: (h, key) => h.get(key) ?? undefined,
    keys: (h) => [...h.keys()],
  });
  const span = tracer.startSpan(
    `${req.service.typeName}/${req.method.name}`,
    {
      kind: SpanKind.SERVER,
      attributes: { "rpc.system": "connect_rpc", "rpc.service": req.service.typeName, "rpc.method": req.method.name },
    },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  try {
    const res = await context.with(ctx, () => next(req));
    if (!res.stream) {
      span.end();
      return res;
    }
    return { ...res, message: traced(res.message, span, ctx) };
  } catch (err) {
    recordFailure(span, err);
    span.end();
    throw err;
  }
};

/** The stream's pulls inside the span's context; the span ends with the stream, however it ends. */
function traced<T>(messages: AsyncIterable<T>, span: Span, ctx: Context): AsyncIterable<T> {
  return wrapStream(messages, {
    around: (pull) => context.with(ctx, pull),
    failed(err) {
      recordFailure(span, err);
      return err;
    },
    ended: () => span.end(),
  });
}
