import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { SpanKind } from "@opentelemetry/api";
import type { Logger } from "pino";
import { Attr } from "../telemetry/attributes.js";
import { contextFromHeaders, taskIdFromHeaders } from "../telemetry/nats-propagation.js";
import { inSpan } from "../telemetry/trace-context.js";

/**
 * Pulls one message at a time, and only when the previous one is handled, so
 * a slow handler never lets prefetched messages run past their ack_wait. The
 * handler acks, naks or terms; a handler that throws gets the message naked
 * for redelivery after `retryDelayMs`. Each message is handled in a consumer
 * span that continues the publisher's trace.
 */
export async function pullLoop(
  consumer: Consumer,
  handle: (msg: JsMsg) => Promise<void>,
  opts: { signal: AbortSignal; log: Logger; retryDelayMs?: number; name?: string },
): Promise<void> {
  const spanName = `consume ${opts.name ?? "message"}`;
  while (!opts.signal.aborted) {
    let msg: JsMsg | null;
    try {
      msg = await consumer.next({ expires: 2_000 });
    } catch (err) {
      opts.log.warn({ err }, "pull failed; retrying");
      await sleep(500);
      continue;
    }
    if (!msg) continue;
    const m = msg;
    const taskId = taskIdFromHeaders(m.headers);
    await inSpan(
      spanName,
      {
        "messaging.system": "nats",
        "messaging.destination.name": m.subject,
        "messaging.message.delivery_count": m.info.deliveryCount,
        ...(taskId ? { [Attr.taskId]: taskId } : {}),
      },
      async () => {
        try {
          await handle(m);
        } catch (err) {
          opts.log.error({ err, subject: m.subject, task_id: taskId }, "message handler failed; redelivering");
          m.nak(opts.retryDelayMs ?? 1_000);
        }
      },
      { parent: contextFromHeaders(m.headers), kind: SpanKind.CONSUMER },
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
