import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { type Consumer, type JsMsg, jetstream } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { type ApiKeyStore, Consumers, type Logger, Streams, statusName } from "@t2v/common";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { AllowList } from "./allow-list.js";
import type { Resolver } from "./resolve-webhook-target.js";
import { resolveWebhookTarget } from "./resolve-webhook-target.js";
import { type SendOutcome, sendWebhook } from "./send-webhook.js";
import { signWebhook } from "./sign-webhook.js";
import { webhookRetryDelayMs } from "./webhook-backoff.js";
import { checkWebhookUrlForm } from "./webhook-target.js";

export interface WebhookDispatcherDeps {
  nc: NatsConnection;
  keys: ApiKeyStore;
  disabled: KV;
  view: (r: TaskRecord) => Task;
  allow: AllowList;
  resolve: Resolver;
  log: Logger;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  concurrency?: number;
  /** Counts each delivery attempt by outcome ("delivered", "gone", "failed", "given_up"). */
  onOutcome?: (outcome: string) => void;
}

/**
 * Delivers task status changes (the T2V_NOTIFY stream, shared durable
 * consumer, so gateway replicas split the work) to each task's webhook_url.
 * A failed delivery is naked with the Standard Webhooks backoff; JetStream
 * keeps the delivery count, so the attempt number survives restarts.
 */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): { stop(): Promise<void> } {
  const { log } = deps;
  const limit = deps.concurrency ?? 16;
  const scale = deps.retryBaseMs / webhookRetryDelayMs(1);
  const stopped = new AbortController();
  const inFlight = new Set<Promise<void>>();

  async function handle(msg: JsMsg): Promise<void> {
    let record: TaskRecord;
    try {
      record = fromBinary(TaskRecordSchema, msg.data);
    } catch {
      msg.term("not a TaskRecord");
      return;
    }
    const task = record.task;
    if (!task || task.webhookUrl === "") return msg.ack();
    const taskId = task.taskId;
    if ((await deps.disabled.get(taskId))?.operation === "PUT") return msg.ack();
    const attempt = msg.info.deliveryCount;
    const id = `${taskId}.${statusName(task.status)}.${task.attempt}`;
    const form = checkWebhookUrlForm(task.webhookUrl, deps.allow);
    const target = form.ok ? await resolveWebhookTarget(form.url, deps.allow, deps.resolve) : form;
    let outcome: SendOutcome;
    if (!form.ok) {
      outcome = { kind: "gone" };
    } else if (!target.ok) {
      // An address that turned internal since submit is refused for good; DNS trouble is retried.
      outcome = target.reason === "does not resolve" ? { kind: "failed", reason: target.reason } : { kind: "gone" };
      log.warn({ task_id: taskId, webhook_id: id, reason: target.reason }, "webhook refused");
    } else {
      const tenant = await deps.keys.tenant(record.tenantId);
      const body = JSON.stringify({
        type: `task.${statusName(task.status)}`,
        timestamp: new Date().toISOString(),
        data: JSON.parse(toJsonString(TaskSchema, deps.view(record))),
      });
      const headers = signWebhook(tenant.webhookSecret, id, Math.floor(Date.now() / 1000), body);
      outcome = await sendWebhook(form.url, target.target, headers, body, deps.timeoutMs);
    }
    deps.onOutcome?.(outcome.kind === "failed" && attempt >= deps.maxAttempts ? "given_up" : outcome.kind);
    if (outcome.kind === "delivered") {
      log.info({ task_id: taskId, webhook_id: id, attempt, status: outcome.status }, "webhook delivered");
      return msg.ack();
    }
    if (outcome.kind === "gone") {
      await deps.disabled.put(taskId, new Uint8Array());
      log.info({ task_id: taskId, webhook_id: id }, "webhook disabled for this task");
      return msg.ack();
    }
    if (attempt >= deps.maxAttempts) {
      log.warn({ task_id: taskId, webhook_id: id, attempt, reason: outcome.reason }, "webhook given up");
      msg.term("webhook attempts exhausted");
      return;
    }
    const delay = webhookRetryDelayMs(attempt, scale);
    log.info(
      { task_id: taskId, webhook_id: id, attempt, reason: outcome.reason, retry_in_ms: delay },
      "webhook failed",
    );
    msg.nak(delay);
  }

  const run = async (): Promise<void> => {
    const js = jetstream(deps.nc);
    let consumer: Consumer | null = null;
    while (!stopped.signal.aborted) {
      try {
        consumer ??= await js.consumers.get(Streams.notify, Consumers.webhooks);
        const free = limit - inFlight.size;
        if (free <= 0) {
          await Promise.race(inFlight);
          continue;
        }
        const batch = await consumer.fetch({ max_messages: free, expires: 2_000 });
        for await (const msg of batch) {
          const p = handle(msg)
            .catch((err: unknown) => {
              log.error({ err, subject: msg.subject }, "webhook handling failed; retrying");
              msg.nak(deps.retryBaseMs);
            })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      } catch (err) {
        if (stopped.signal.aborted) break;
        log.warn({ err }, "webhook consumer unavailable; retrying");
        consumer = null;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };
  const loop = run();

  return {
    async stop() {
      stopped.abort();
      await loop;
      await Promise.allSettled([...inFlight]);
    },
  };
}
