import { metrics } from "@opentelemetry/api";

/** The gateway's metrics. Created after telemetry starts (a meter taken earlier would be a no-op). */
export function createGatewayMetrics() {
  const meter = metrics.getMeter("t2v-gateway");
  return {
    rateLimited: meter.createCounter("t2v_rate_limited_total", { description: "Calls refused by the rate limiter" }),
    dailyQuotaRefused: meter.createCounter("t2v_daily_quota_refused_total", {
      description: "New tasks refused because the tenant used its tier's daily task quota",
    }),
    storedTasksRefused: meter.createCounter("t2v_stored_tasks_refused_total", {
      description: "New tasks refused because the tenant holds its tier's stored tasks (STORED_TASKS_PER_TENANT_*)",
    }),
    videoBytesRefused: meter.createCounter("t2v_video_bytes_refused_total", {
      description:
        "New tasks refused because the tenant's stored videos reach its tier's byte cap (VIDEO_BYTES_PER_TENANT_*_GB)",
    }),
    authFailuresLimited: meter.createCounter("t2v_auth_failures_limited_total", {
      description: "Calls refused because their client address failed authentication too often",
    }),
    webhookDeliveries: meter.createCounter("t2v_webhook_deliveries_total", {
      description: "Webhook delivery attempts, by outcome",
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
