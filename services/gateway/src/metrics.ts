import { metrics } from "@opentelemetry/api";
import { secondsHistogram } from "@t2v/common/telemetry";

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
    // Where a submit's time goes (t2v.stage): what to look at when submits slow down.
    submitStage: secondsHistogram(
      meter,
      "t2v_submit_stage_seconds",
      "Time one CreateTask spends in each stage, by t2v.stage: admit (queue limit and daily quota), persist (record, task lists, active index), publish (the submission)",
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    ),
    estimateWait: secondsHistogram(
      meter,
      "t2v_queue_estimate_wait_seconds",
      "Time a call (CreateTask, GetTask, ListTasks and the REST API) waits for the scheduler's queue estimates",
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    ),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
