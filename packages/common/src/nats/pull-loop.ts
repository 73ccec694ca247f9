import type { Consumer, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";

/**
 * Pulls one message at a time, and only when the previous one is handled, so
 * a slow handler never lets prefetched messages run past their ack_wait. The
 * handler acks, naks or terms; a handler that throws gets the message naked
 * for redelivery after `retryDelayMs`.
 */
export async function pullLoop(
  consumer: Consumer,
  handle: (msg: JsMsg) => Promise<void>,
  opts: { signal: AbortSignal; log: Logger; retryDelayMs?: number },
): Promise<void> {
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
    try {
      await handle(msg);
    } catch (err) {
      opts.log.error({ err, subject: msg.subject }, "message handler failed; redelivering");
      msg.nak(opts.retryDelayMs ?? 1_000);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
