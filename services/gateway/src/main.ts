import "./instrumentation.js";
import { randomInt } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import {
  Buckets,
  connectNats,
  createApiKeyStore,
  createLogger,
  onShutdown,
  openBucket,
  openGatewayBuckets,
  openStores,
  readConfigOrExit,
} from "@t2v/common";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { createGuard } from "./auth/guard.js";
import { gatewayConfig } from "./config.js";
import { publicTask } from "./domain/public-task.js";
import { createGatewayMetrics } from "./gateway-metrics.js";
import { createServingState } from "./health/serving-state.js";
import { downloadSecret } from "./http/download-secret.js";
import { telemetry } from "./instrumentation.js";
import { createRateLimiter } from "./limits/rate-limiter.js";
import { buildGateway } from "./server.js";
import { createAdmission } from "./tasks/admission.js";
import { createTaskUseCase } from "./tasks/create-task.js";
import { createIdempotencyStore } from "./tasks/idempotency.js";
import { createEstimator } from "./tasks/queue-estimates.js";
import { parseAllowList } from "./webhooks/allow-list.js";
import { systemResolver } from "./webhooks/resolve-webhook-target.js";
import { startWebhookDispatcher } from "./webhooks/webhook-dispatcher.js";

const config = readConfigOrExit("gateway", gatewayConfig);
const log = createLogger("gateway", config.logLevel);
let webhookAllow: ReturnType<typeof parseAllowList>;
try {
  webhookAllow = parseAllowList(config.webhookAllowHosts);
} catch (err) {
  process.stderr.write(`gateway: invalid configuration:\n  - WEBHOOK_ALLOW_HOSTS: ${(err as Error).message}\n`);
  process.exit(78);
}

const nc = await connectNats(config.natsUrl, "gateway", log);
const stores = await openStores(nc, { videoTtlHours: config.videoTtlHours });
const kv = await openGatewayBuckets(nc);
const js = jetstream(nc);
const queueStats = await openBucket(nc, Buckets.queueStats);
const keys = createApiKeyStore(kv);
const secret = await downloadSecret(config.downloadSigningSecret, kv.secrets);

const health = createServingState(true);
const stopping = new AbortController();
void (async () => {
  for await (const s of nc.status()) {
    if (s.type === "disconnect") health.set(false);
    if (s.type === "reconnect" && !stopping.signal.aborted) health.set(true);
  }
})();

const links = {
  baseUrl: config.publicBaseUrl || `http://127.0.0.1:${config.port}`,
  secret,
  ttlSeconds: Math.min(config.resultUrlTtlSeconds, config.videoTtlHours * 3600),
};
const view = (r: TaskRecord) => publicTask(r, links);
const resolve = systemResolver(2_000);
const estimate = createEstimator(nc);
const metrics = createGatewayMetrics();
const guard = createGuard(
  keys,
  createRateLimiter(),
  { vip: config.rateVip, standard: config.rateStandard, batch: config.rateBatch },
  (tier) => metrics.rateLimited.add(1, { "t2v.tier": tier }),
);
const createTask = createTaskUseCase({
  tasks: stores.tasks,
  js,
  log,
  randomSeed: () => randomInt(0, 2_147_483_647),
  idempotency: createIdempotencyStore(kv.idempotency),
  admit: createAdmission(queueStats, {
    vip: config.maxQueuedVip,
    standard: config.maxQueuedStandard,
    batch: config.maxQueuedBatch,
  }),
  webhookAllow,
  resolve,
});

const gateway = buildGateway({
  tasks: stores.tasks,
  videos: stores.videos,
  js,
  nc,
  log,
  createTask,
  view,
  estimate,
  stopping: stopping.signal,
  guard,
  health,
  downloadSecret: secret,
});

const webhooks = startWebhookDispatcher({
  nc,
  keys,
  disabled: kv.webhookDisabled,
  view,
  allow: webhookAllow,
  resolve,
  log,
  timeoutMs: config.webhookTimeoutMs,
  maxAttempts: config.webhookMaxAttempts,
  retryBaseMs: config.webhookRetryBaseMs,
  onOutcome: (outcome) => metrics.webhookDeliveries.add(1, { outcome }),
});

gateway.server.listen(config.port, config.host, () => log.info({ port: config.port }, "gateway listening"));

// NOT_SERVING at once (probes and balancers stop sending), end open streams
// cleanly, let unary calls in flight finish, then leave NATS.
onShutdown(log, async () => {
  health.set(false);
  stopping.abort();
  await Promise.all([gateway.close(), webhooks.stop()]);
  await nc.drain();
  await telemetry.shutdown();
});
