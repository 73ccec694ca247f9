import { consumeEach, type Inbox } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";
import type { DeliverWebhook } from "../../use-cases/deliver-webhook.js";

export interface WebhookDispatcherDeps {
  /** `taskChanges.inbox`: the shared `webhooks` consumer, so gateway replicas split the work. */
  inbox: () => Promise<Inbox<TaskRecord>>;
  deliver: DeliverWebhook;
  log: Logger;
  /** A delivery that throws (a KV hiccup) is tried again after this long. */
  retryBaseMs: number;
  /** Deliveries in flight at once: a slow receiver must not hold up the others. */
  concurrency?: number;
}

/**
 * Delivers task status changes to each task's webhook_url. A failed delivery
 * is naked with the Standard Webhooks backoff; the stream keeps the delivery
 * count, so the attempt number survives restarts.
 */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): { stop(): Promise<void> } {
  const stopped = new AbortController();
  const opts = { signal: stopped.signal, log: deps.log, name: "webhooks", retryDelayMs: deps.retryBaseMs };
  const loops = Array.from({ length: deps.concurrency ?? 16 }, () =>
    consumeEach(
      deps.inbox,
      async (d) => {
        const verdict = await deps.deliver(d.message, d.deliveryCount);
        if (verdict.kind === "done") d.ack();
        else if (verdict.kind === "retry") d.nak(verdict.delayMs);
        else d.term("webhook attempts exhausted");
      },
      opts,
    ),
  );
  return {
    async stop() {
      stopped.abort();
      await Promise.allSettled(loops);
    },
  };
}
