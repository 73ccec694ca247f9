import { randomInt, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { openCachedApiKeyStore } from "@t2v/common/api-keys";
import { type Bus, channels, DAY_MS, HOUR_MS, openMediaStores, VIDEO_BYTES_MAX_PAST_DAYS } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import { openResultStore } from "@t2v/common/s3-store";
import { longestRetentionSeconds, retentionPolicyOf } from "@t2v/common/task";
import { createAdmission } from "./adapters/admission.js";
import { createAuthFailureLimiter } from "./adapters/auth-failure-limiter.js";
import { systemResolver } from "./adapters/dns-resolver.js";
import { downloadSecret } from "./adapters/download-secret.js";
import { openIdempotencyStore } from "./adapters/idempotency-store.js";
import { createQueueEstimateCache } from "./adapters/queue-estimate-cache.js";
import { applyWatchedEstimate, createQueueEstimates } from "./adapters/queue-estimates.js";
import { createRateLimiter } from "./adapters/rate-limiter.js";
import { gatewayResultLinks, storeResultLinks } from "./adapters/result-links.js";
import { createStoredTaskWindow, STORED_WINDOW_PAST_DAYS } from "./adapters/stored-task-window.js";
import { createVideoBytesWindow } from "./adapters/video-bytes-window.js";
import { openWebhookDisabled } from "./adapters/webhook-disabled.js";
import { sendWebhook } from "./adapters/webhook-sender.js";
import type { GatewayConfig } from "./config.js";
import { createDownloadLimits } from "./domain/download-limits.js";
import { pageTokenKey } from "./domain/page-token.js";
import { linkTtlSeconds } from "./domain/public-task.js";
import { signedPath } from "./domain/signed-url.js";
import { GIB, windowPastDays } from "./domain/video-bytes-quota.js";
import type { Resolver } from "./domain/webhook-target.js";
import { createHttpFallback } from "./entry-points/http/http-fallback.js";
import type { HttpHandler } from "./entry-points/http/node-http.js";
import { createProbes } from "./entry-points/http/probes.js";
import { createVideoDownload } from "./entry-points/http/video-download.js";
import { createWebConsole } from "./entry-points/http/web-console.js";
import { createT2vRestApi } from "./entry-points/rest/t2v-rest-api.js";
import { createTaskEventsSse } from "./entry-points/rest/task-events-sse.js";
import { gatewayNodeAdapter } from "./entry-points/rpc/node-adapter.js";
import { createOnePortServer } from "./entry-points/rpc/one-port-server.js";
import { buildRoutes } from "./entry-points/rpc/routes.js";
import { createServingState, type ServingState } from "./entry-points/rpc/serving-state.js";
import { transportContextValues } from "./entry-points/rpc/stream-transport.js";
import { startWebhookDispatcher } from "./entry-points/webhooks/webhook-dispatcher.js";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
import { admitSubmitUseCase } from "./use-cases/admit-submit.js";
import { cancelTaskUseCase } from "./use-cases/cancel-task.js";
import { chargeDailyQuotaUseCase } from "./use-cases/charge-daily-quota.js";
import { checkVideoBytesUseCase } from "./use-cases/check-video-bytes.js";
import { controlTaskUseCases } from "./use-cases/control-task.js";
import { createTaskUseCase } from "./use-cases/create-task.js";
import { deleteTaskUseCase } from "./use-cases/delete-task.js";
import { deliverWebhookUseCase } from "./use-cases/deliver-webhook.js";
import { createGetTaskForCaller } from "./use-cases/get-task-for-caller.js";
import { createGuard, type Guard } from "./use-cases/guard.js";
import { listTasksUseCase } from "./use-cases/list-tasks.js";
import { rerunTaskUseCase } from "./use-cases/rerun-task.js";
import { createTaskWatchHub, type TaskWatchHub } from "./use-cases/task-watch-hub.js";
import { viewTaskUseCase } from "./use-cases/view-task.js";
import { createWatchStreams, type WatchStreams } from "./use-cases/watch-streams.js";
import { watchTaskUseCase } from "./use-cases/watch-task.js";

export interface GatewayDeps {
  bus: Bus;
  log: Logger;
  /** Webhook host lookups; the system resolver by default. */
  resolve?: Resolver;
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /** Seeds for requests that give none; any int32 by default. */
  randomSeed?: () => number;
  metrics?: GatewayMetrics;
  /** This process's name among the gateways (its admission places, its queue-estimate pushes); random by default. */
  gatewayId?: string;
}

/** The largest seed the contract allows (int32). */
const MAX_SEED = 2_147_483_647;

/** The gateway's parts, wired but not listening: routes for a Connect router, the HTTP fallback, the webhook dispatcher. */
export interface GatewayParts {
  routes: (router: ConnectRouter) => void;
  /** The door: authenticates and charges a call (the node adapter runs it before reading a body). */
  guard: Guard;
  http: HttpHandler;
  health: ServingState;
  /** Aborted on shutdown: open streams end. */
  stopping: AbortController;
  /** The shared task watches and the open streams (for tests and metrics). */
  hub: TaskWatchHub;
  streams: WatchStreams;
  startWebhooks(): { stop(): Promise<void> };
}

/**
 * Builds the whole gateway on `deps.bus`. `baseUrl` is where download links
 * point; it is asked each time a link is made, so it may depend on the bound port.
 */
export async function buildGateway(
  config: GatewayConfig,
  deps: GatewayDeps,
  baseUrl: () => string = () => config.publicBaseUrl || `http://127.0.0.1:${config.port}`,
): Promise<GatewayParts> {
  const { bus, log } = deps;
  const now = deps.clock ?? Date.now;
  const resolve = deps.resolve ?? systemResolver({ maxConcurrent: config.dnsMaxConcurrent });
  const metrics = deps.metrics ?? createGatewayMetrics();
  const ch = channels(bus);
  const gatewayId = deps.gatewayId ?? randomUUID();
  const [media, results, keys, queueStats, idempotency, disabled, secret] = await Promise.all([
    openMediaStores(bus, { videoTtlHours: config.videoTtlHours }),
    openResultStore(config, bus),
    openCachedApiKeyStore(bus, config.apiKeyCacheSize),
    ch.queueStats.cache(config.queueStatsCacheSize),
    openIdempotencyStore(bus),
    openWebhookDisabled(bus),
    downloadSecret(config.downloadSigningSecret, bus),
  ]);

  const retention = retentionPolicyOf(config.videoTtlHours, results.kind);
  const view = viewTaskUseCase({
    // S3: presigned links of the store itself; JetStream: the gateway's signed links, served below.
    links: results.links
      ? storeResultLinks(results.links, config.resultUrlTtlSeconds)
      : gatewayResultLinks({
          baseUrl,
          sign: (file: string, exp: number) => signedPath(secret, file, exp),
          ttlSeconds: linkTtlSeconds(config.resultUrlTtlSeconds, config.videoTtlHours),
        }),
    retention,
    now,
  });
  const { estimate, project } = createQueueEstimates(ch.queueEstimates, undefined, (s) =>
    metrics.estimateWait.record(s),
  );
  const guard = createGuard(
    keys,
    createRateLimiter(now),
    { vip: config.rateVip, standard: config.rateStandard, batch: config.rateBatch },
    createAuthFailureLimiter(config.authFailureRate, config.authFailureAddresses, now),
    {
      onLimited: (tier) => metrics.rateLimited.add(1, { "t2v.tier": tier }),
      onAuthFailuresLimited: () => metrics.authFailuresLimited.add(1),
    },
  );
  const getTask = createGetTaskForCaller(ch.tasks);
  const admitQueued = createAdmission(
    queueStats,
    { vip: config.maxQueuedVip, standard: config.maxQueuedStandard, batch: config.maxQueuedBatch },
    now,
    { places: ch.admissionPlaces, replicaId: gatewayId, log },
  );
  const chargeDailyQuota = chargeDailyQuotaUseCase({
    counts: ch.dailyTaskCounts,
    quota: { vip: config.dailyQuotaVip, standard: config.dailyQuotaStandard, batch: config.dailyQuotaBatch },
    stored: {
      limit: { vip: config.storedTasksVip, standard: config.storedTasksStandard, batch: config.storedTasksBatch },
      before: createStoredTaskWindow(ch.tasks, config.queueStatsCacheSize, now),
      windowPastDays: STORED_WINDOW_PAST_DAYS,
    },
    now,
    onRefused: (tier, limit) =>
      (limit === "daily" ? metrics.dailyQuotaRefused : metrics.storedTasksRefused).add(1, { "t2v.tier": tier }),
  });
  // A result lives at most the longest retention, so the window sums no further back than that.
  const longest = longestRetentionSeconds(retention);
  const bytesPastDays = windowPastDays(longest, VIDEO_BYTES_MAX_PAST_DAYS);
  if (longest * 1000 > VIDEO_BYTES_MAX_PAST_DAYS * DAY_MS) {
    log.warn(
      { video_ttl_hours: config.videoTtlHours, window_days: bytesPastDays + 1 },
      "results may be kept longer than the video byte cap counts them: older ones are not counted",
    );
  }
  const videoBytesWindow = createVideoBytesWindow(
    ch.videoBytes,
    { pastDays: bytesPastDays, maxTenants: config.queueStatsCacheSize },
    now,
  );
  const checkVideoBytes = checkVideoBytesUseCase({
    capBytes: {
      vip: config.videoBytesVipGb * GIB,
      standard: config.videoBytesStandardGb * GIB,
      batch: config.videoBytesBatchGb * GIB,
    },
    stored: videoBytesWindow.stored,
    windowPastDays: bytesPastDays,
    now,
    onRefused: (tier) => metrics.videoBytesRefused.add(1, { "t2v.tier": tier }),
  });
  const createTask = createTaskUseCase({
    tasks: ch.tasks,
    submissions: ch.submissions,
    log,
    randomSeed: deps.randomSeed ?? (() => randomInt(0, MAX_SEED)),
    now,
    idempotency,
    admit: admitSubmitUseCase({ admitQueued, chargeDailyQuota, checkVideoBytes, log }),
    webhookAllow: config.webhookAllow,
    resolve,
    onStage: (stage, seconds) => metrics.submitStage.record(seconds, { "t2v.stage": stage }),
    project,
  });

  const cancelTask = cancelTaskUseCase({
    tasks: ch.tasks,
    getTask,
    cancellations: ch.cancellations,
    taskChanges: ch.taskChanges,
    log,
  });
  const deleteTask = deleteTaskUseCase({
    tasks: ch.tasks,
    getTask,
    cancelTask,
    deleteResult: (id) => results.deleteTask(id),
    latents: media.latents,
    videoBytes: ch.videoBytes,
    onBytesReleased: (tenantId) => videoBytesWindow.forget(tenantId),
    taskChanges: ch.taskChanges,
    log,
    now,
  });
  const controlTask = controlTaskUseCases({
    tasks: ch.tasks,
    getTask,
    taskControls: ch.taskControls,
    taskChanges: ch.taskChanges,
    pausedTtlMs: config.pausedTtlHours * HOUR_MS,
    log,
    now,
  });
  const health = createServingState(true);
  const stopping = new AbortController();
  // Every open WatchTask, SSE and health stream listens to it (linkSignals): thousands, not a leak.
  setMaxListeners(0, stopping.signal);
  // The cache tells the hub when a queued task moved; the hub tells the cache which tasks are queued.
  const estimates = createQueueEstimateCache({
    pushes: ch.estimatePushes,
    gatewayId,
    onChange: (taskId, e) => hub.estimateChanged(taskId, (t) => applyWatchedEstimate(t, e)),
    log,
  });
  const hub = createTaskWatchHub({ tasks: ch.tasks, view, estimates, log, now });
  stopping.signal.addEventListener(
    "abort",
    () => {
      estimates.stop();
      keys.stop();
      queueStats.stop();
    },
    { once: true },
  );
  const streams = createWatchStreams({
    limits: {
      perKey: config.watchStreamsPerKey,
      perTenant: config.watchStreamsPerTenant,
      perGateway: config.watchStreamsMax,
    },
    retryAfterMs: config.watchStreamRetryMs,
    stallMs: config.watchStreamStallMs,
    maxBufferedBytes: config.watchStreamMaxBufferBytes,
    revoked: (prefix, signal) => keys.revoked(prefix, signal),
    log,
    now,
  });
  const routes = buildRoutes({
    guard,
    health,
    log,
    createTask,
    getTask,
    cancelTask,
    controlTask,
    deleteTask,
    // The task lists date their entries by the wall clock, so page tokens are checked against it too.
    listTasks: listTasksUseCase({ tasks: ch.tasks, tokenKey: pageTokenKey(secret), now: Date.now }),
    watchTask: watchTaskUseCase({ getTask, hub, streams, previews: ch.previews }),
    rerunTask: rerunTaskUseCase({ getTask, createTask }),
    view,
    estimate,
    stopping: stopping.signal,
  });
  const http = createHttpFallback(
    [
      createProbes(health),
      createT2vRestApi({
        guard,
        createTask,
        getTask,
        deleteTask,
        view,
        estimate,
        log,
        maxBodyBytes: config.requestMaxBytes,
        bodyTimeoutMs: config.bodyTimeoutMs,
      }),
      createTaskEventsSse({ guard, getTask, hub, streams, stopping: stopping.signal, log }),
      createVideoDownload({
        tasks: ch.tasks,
        videos: results.videos,
        guard,
        secret,
        now,
        limits: createDownloadLimits({
          perGateway: config.downloadsPerGateway,
          perTenant: config.downloadsPerTenant,
          perLink: config.downloadsPerLink,
          tenantBytesPerSecond: config.downloadTenantMibPerSecond * 1024 * 1024,
          linkBytesPerSecond: config.downloadLinkMibPerSecond * 1024 * 1024,
        }),
        stallMs: config.downloadStallMs,
      }),
      createWebConsole(),
    ],
    log,
  );
  const deliver = deliverWebhookUseCase({
    secretOf: async (tenantId) => (await keys.tenant(tenantId)).webhookSecret,
    disabled,
    view,
    allow: config.webhookAllow,
    resolve,
    send: sendWebhook,
    log,
    now,
    timeoutMs: config.webhookTimeoutMs,
    maxAttempts: config.webhookMaxAttempts,
    retryBaseMs: config.webhookRetryBaseMs,
    onOutcome: (outcome) => metrics.webhookDeliveries.add(1, { outcome }),
  });
  return {
    routes,
    guard,
    http,
    health,
    stopping,
    hub,
    streams,
    startWebhooks: () =>
      startWebhookDispatcher({
        inbox: ch.taskChanges.inbox,
        deliver,
        log,
        retryBaseMs: config.webhookRetryBaseMs,
        concurrency: config.webhookConcurrency,
        perTenant: config.webhookConcurrencyPerTenant,
        queuedPerTenant: config.webhookQueuedPerTenant,
        // A full lane frees a slot within one delivery timeout.
        deferMs: config.webhookTimeoutMs,
      }),
  };
}

export interface Gateway {
  /** The bound port (config.port, or the free one picked for 0). */
  port: number;
  /** SERVING while the gateway can do its job; main.ts turns it off while NATS is away. */
  health: ServingState;
  /** Open connections of one client address (the MAX_CONNECTIONS_PER_ADDRESS count). */
  connectionsOf(address: string): number;
  /** NOT_SERVING at once, end open streams, let unary calls in flight finish, stop the webhook dispatcher. */
  stop(): Promise<void>;
}

/** Builds the gateway on `deps.bus` and serves every protocol on one port. */
export async function start(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  let port = config.port;
  const parts = await buildGateway(config, deps, () => config.publicBaseUrl || `http://127.0.0.1:${port}`);
  const server = createOnePortServer(
    gatewayNodeAdapter({
      readMaxBytes: config.requestMaxBytes,
      bodyTimeoutMs: config.bodyTimeoutMs,
      routes: parts.routes,
      fallback: parts.http,
      admit: (authorization, address) => parts.guard.admit(authorization, address),
      log: deps.log,
      contextValues: transportContextValues,
    }),
    config,
  );
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.server.listen(config.port, config.host, () => {
      server.server.off("error", reject);
      resolve();
    });
  });
  port = (server.server.address() as AddressInfo).port;
  const webhooks = parts.startWebhooks();
  deps.log.info({ port }, "gateway listening");
  return {
    port,
    health: parts.health,
    connectionsOf: (address) => server.connectionsOf(address),
    async stop() {
      parts.health.set(false);
      parts.stopping.abort();
      await Promise.all([server.close(), webhooks.stop()]);
    },
  };
}
