import { type MsgHdrs, headers as natsHeaders } from "@nats-io/nats-core";
import { type Context, context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { TASK_ID_HEADER } from "./attributes.js";

/** NATS headers carrying the trace context (W3C traceparent) and the task id. */
export function traceHeaders(taskId: string | undefined, ctx: Context = context.active()): MsgHdrs {
  const h = natsHeaders();
  propagation.inject(ctx, h, { set: (carrier, key, value) => carrier.set(key, value) });
  if (taskId) h.set(TASK_ID_HEADER, taskId);
  return h;
}

/** The trace context a message was published in. */
export function contextFromHeaders(h: MsgHdrs | undefined): Context {
  if (!h) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, h, {
    get: (carrier, key) => carrier.get(key) || undefined,
    keys: (carrier) => carrier.keys(),
  });
}

export function taskIdFromHeaders(h: MsgHdrs | undefined): string | undefined {
  return h?.get(TASK_ID_HEADER) || undefined;
}
