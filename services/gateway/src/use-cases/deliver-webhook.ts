import { taskChangeId } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Task } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import type { WebhookDisabled } from "../adapters/webhook-disabled.js";
import type { SendOutcome, sendWebhook } from "../adapters/webhook-sender.js";
import type { AllowList } from "../domain/allow-list.js";
import { signWebhook } from "../domain/sign-webhook.js";
import { webhookRetryDelayMs } from "../domain/webhook-backoff.js";
import { webhookBody } from "../domain/webhook-event.js";
import { checkWebhookTarget, type Resolver } from "../domain/webhook-target.js";

export interface DeliverWebhookDeps {
  /** The tenant's Standard Webhooks signing secret (`whsec_...`). */
  secretOf: (tenantId: string) => Promise<string>;
  disabled: WebhookDisabled;
  view: (r: TaskRecord) => Promise<Task>;
  allow: AllowList;
  resolve: Resolver;
  send: typeof sendWebhook;
  log: Logger;
  now: () => number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Counts each delivery attempt by outcome ("delivered", "gone", "failed", "given_up"). */
  onOutcome?: (outcome: string) => void;
}

/** What to do with the task-change message once this attempt is over. */
export type WebhookVerdict = { kind: "done" } | { kind: "retry"; delayMs: number } | { kind: "give-up" };

export type DeliverWebhook = (record: TaskRecord, attempt: number) => Promise<WebhookVerdict>;

/**
 * One delivery attempt of one task change to the task's webhook_url. The
 * target is checked again at each send (an address that turned internal
 * since submit is refused for good; DNS trouble is retried). 2xx is done;
 * 410 disables the task's webhooks; anything else is retried on the Standard
 * Webhooks schedule (scaled to WEBHOOK_RETRY_BASE_MS) up to `maxAttempts`.
 */
export function deliverWebhookUseCase(deps: DeliverWebhookDeps): DeliverWebhook {
  const { log } = deps;
  const scale = deps.retryBaseMs / webhookRetryDelayMs(1);

  async function attemptOnce(record: TaskRecord, webhookUrl: string, id: string): Promise<SendOutcome> {
    const target = await checkWebhookTarget(webhookUrl, deps.allow, deps.resolve);
    if (!target.ok) {
      if (target.stage !== "form")
        log.warn({ task_id: record.task?.taskId, webhook_id: id, reason: target.reason }, "webhook refused");
      return target.stage === "dns" ? { kind: "failed", reason: target.reason } : { kind: "gone" };
    }
    const body = webhookBody(await deps.view(record), deps.now());
    const headers = signWebhook(await deps.secretOf(record.tenantId), id, Math.floor(deps.now() / 1000), body);
    return deps.send(target.url, target.target, headers, body, deps.timeoutMs);
  }

  return async (record, attempt) => {
    const task = record.task;
    if (!task || task.webhookUrl === "") return { kind: "done" };
    const taskId = task.taskId;
    if (await deps.disabled.has(taskId)) return { kind: "done" };
    const id = taskChangeId(record);
    const outcome = await attemptOnce(record, task.webhookUrl, id);
    deps.onOutcome?.(outcome.kind === "failed" && attempt >= deps.maxAttempts ? "given_up" : outcome.kind);
    if (outcome.kind === "delivered") {
      log.info({ task_id: taskId, webhook_id: id, attempt, status: outcome.status }, "webhook delivered");
      return { kind: "done" };
    }
    if (outcome.kind === "gone") {
      await deps.disabled.add(taskId);
      log.info({ task_id: taskId, webhook_id: id }, "webhook disabled for this task");
      return { kind: "done" };
    }
    if (attempt >= deps.maxAttempts) {
      log.warn({ task_id: taskId, webhook_id: id, attempt, reason: outcome.reason }, "webhook given up");
      return { kind: "give-up" };
    }
    const delayMs = webhookRetryDelayMs(attempt, scale);
    log.info(
      { task_id: taskId, webhook_id: id, attempt, reason: outcome.reason, retry_in_ms: delayMs },
      "webhook failed",
    );
    return { kind: "retry", delayMs };
  };
}
