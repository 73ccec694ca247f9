import { type BucketSpec, type Bus, DAY_MS } from "@t2v/common/channels";

/** Task id -> empty: the receiver answered 410 (or the target turned forbidden), stop sending this task's webhooks. */
export const WEBHOOK_DISABLED_BUCKET: BucketSpec = { name: "t2v_webhook_disabled", ttlMs: 7 * DAY_MS, history: 1 };

export interface WebhookDisabled {
  has(taskId: string): Promise<boolean>;
  add(taskId: string): Promise<void>;
}

export async function openWebhookDisabled(bus: Bus): Promise<WebhookDisabled> {
  const kv = await bus.kv(WEBHOOK_DISABLED_BUCKET);
  return {
    has: async (taskId) => (await kv.get(taskId)) !== null,
    async add(taskId) {
      await kv.put(taskId, new Uint8Array());
    },
  };
}
