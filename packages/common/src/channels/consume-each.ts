import { setTimeout as delay } from "node:timers/promises";
import { SpanKind } from "@opentelemetry/api";
import type { Logger } from "pino";
import { Attr } from "../telemetry/attributes.js";
import { inSpan } from "../telemetry/trace-context.js";
import type { Delivery, Inbox } from "./delivery.js";

export interface ConsumeOptions {
  signal: AbortSignal;
  log: Logger;
  /** Span name suffix: "consume <name>". */
  name: string;
  /** A handler that throws gets its message back after this long. */
  retryDelayMs?: number;
}

/**
 * Takes one message at a time, and the next only when the previous one is
 * handled, so a slow handler never lets prefetched messages run past their
 * ack wait. The handler acks, naks or terms; one that throws gets the message
 * naked for redelivery. Each message is handled in a consumer span that
 * continues the publisher's trace. Ends when `signal` aborts.
 */
export async function consumeEach<T>(
  open: () => Promise<Inbox<T>>,
  handle: (d: Delivery<T>) => Promise<void>,
  opts: ConsumeOptions,
): Promise<void> {
  let inbox: Inbox<T> | undefined;
  while (!opts.signal.aborted) {
    let d: Delivery<T> | null;
    try {
      inbox ??= await open();
      d = await inbox.next();
    } catch (err) {
      opts.log.warn({ err, consumer: opts.name }, "pull failed; retrying");
      await delay(500);
      continue;
    }
    if (d) await handleOne(d, handle, opts);
  }
}

/** Runs `handle` for one delivery in a consumer span; a throw naks the message. */
export function handleOne<T>(
  d: Delivery<T>,
  handle: (d: Delivery<T>) => Promise<void>,
  opts: Pick<ConsumeOptions, "log" | "name" | "retryDelayMs">,
): Promise<void> {
  return inSpan(
    `consume ${opts.name}`,
    {
      "messaging.system": "nats",
      "messaging.destination.name": d.subject,
      "messaging.message.delivery_count": d.deliveryCount,
      ...(d.taskId ? { [Attr.taskId]: d.taskId } : {}),
    },
    async () => {
      try {
        await handle(d);
      } catch (err) {
        opts.log.error({ err, subject: d.subject, task_id: d.taskId }, "message handler failed; redelivering");
        d.nak(opts.retryDelayMs ?? 1_000);
      }
    },
    { parent: d.traceContext, kind: SpanKind.CONSUMER },
  );
}
