import { CHECKPOINTS_STORE, HOUR_MS, WEBHOOK_CONSUMER } from "@t2v/common/channels";
import { type ConfigOf, commonFields, type Field, int, str } from "@t2v/common/config";
import { resultStoreFields } from "@t2v/common/s3-store";
import { DNS_TIMEOUT_MS } from "./adapters/dns-resolver.js";
import { type AllowList, parseAllowList } from "./domain/allow-list.js";

/**
 * The longest webhook delivery allowed: its DNS lookup and its POST must end
 * well inside the webhooks consumer's ack wait, or the message would be
 * redelivered to another replica while this one still waits.
 */
export const MAX_WEBHOOK_TIMEOUT_MS = WEBHOOK_CONSUMER.ackWaitMs - DNS_TIMEOUT_MS - 8_000;

/** "<per minute>/<burst>", e.g. "600/120". */
function rate(env: string, doc: string, def: string): Field<{ perMinute: number; burst: number }> {
  return {
    env,
    doc,
    default: def,
    parse(raw) {
      const m = /^(\d{1,7})\/(\d{1,7})$/.exec(raw ?? def);
      if (!m) throw new Error(`"${raw}" is not <per minute>/<burst>, e.g. ${def}`);
      const perMinute = Number(m[1]);
      const burst = Number(m[2]);
      if (perMinute < 1 || burst < 1) throw new Error("rate and burst must be at least 1");
      return { perMinute, burst };
    },
  };
}

/** Comma-separated host names, addresses and CIDRs; empty allows nothing. */
function allowList(env: string, doc: string): Field<AllowList> {
  return { env, doc, parse: (raw) => parseAllowList(raw ?? "") };
}

export const gatewayConfig = {
  ...commonFields,
  port: int("PORT", "port for gRPC, gRPC-Web, Connect, REST and HTTP downloads (0: any free port)", 8080, 0, 65535),
  host: str("HOST", "address to listen on", "0.0.0.0"),
  publicBaseUrl: str("PUBLIC_BASE_URL", "base of result_url links (default http://127.0.0.1:PORT)", ""),
  videoTtlHours: int(
    "VIDEO_TTL_HOURS",
    "how long finished videos and posters are kept, unless a request's `retention` says otherwise",
    168,
    1,
    24 * 365,
  ),
  resultUrlTtlSeconds: int(
    "RESULT_URL_TTL_SECONDS",
    "how long download links work: after completion on JetStream; from each read of the task with S3, at most 7 days (capped by the retention)",
    24 * 3600,
    1,
    365 * 24 * 3600,
  ),
  downloadSigningSecret: str(
    "DOWNLOAD_SIGNING_SECRET",
    "HMAC secret of download links; unset: one is generated once and shared by all replicas through KV",
    "",
  ),
  downloadsPerGateway: int(
    "DOWNLOADS_PER_GATEWAY",
    "downloads open at once in one gateway replica, all tenants together (each holds up to one 256 KiB chunk of read-ahead); past it 503 with Retry-After",
    256,
    1,
    100_000,
  ),
  downloadsPerTenant: int(
    "DOWNLOADS_PER_TENANT",
    "downloads of one tenant's videos and posters open at once (signed links included); past it 429 with Retry-After",
    64,
    1,
    100_000,
  ),
  downloadsPerLink: int(
    "DOWNLOADS_PER_LINK",
    "downloads of one file (all signed links of one video or poster) open at once; past it 429 with Retry-After",
    16,
    1,
    100_000,
  ),
  downloadTenantMibPerSecond: int(
    "DOWNLOAD_TENANT_MIB_PER_SECOND",
    "MiB per second all of one tenant's downloads share (writes are paced)",
    200,
    1,
    100_000,
  ),
  downloadLinkMibPerSecond: int(
    "DOWNLOAD_LINK_MIB_PER_SECOND",
    "MiB per second all downloads of one file share (writes are paced)",
    100,
    1,
    100_000,
  ),
  downloadStallMs: int(
    "DOWNLOAD_STALL_MS",
    "a download whose client takes nothing for this long is closed",
    60_000,
    100,
    3_600_000,
  ),
  rateVip: rate("RATE_LIMIT_VIP", "requests per minute/burst per API key, vip tier", "1200/240"),
  rateStandard: rate("RATE_LIMIT_STANDARD", "requests per minute/burst per API key, standard tier", "600/120"),
  rateBatch: rate("RATE_LIMIT_BATCH", "requests per minute/burst per API key, batch tier", "300/60"),
  maxQueuedVip: int("MAX_QUEUED_PER_TENANT_VIP", "queued tasks a vip tenant may have", 1000, 0, 1_000_000),
  maxQueuedStandard: int(
    "MAX_QUEUED_PER_TENANT_STANDARD",
    "queued tasks a standard tenant may have",
    200,
    0,
    1_000_000,
  ),
  maxQueuedBatch: int("MAX_QUEUED_PER_TENANT_BATCH", "queued tasks a batch tenant may have", 5000, 0, 1_000_000),
  dailyQuotaVip: int(
    "DAILY_TASK_QUOTA_VIP",
    "tasks a vip tenant may create per UTC day (cache hits, cancelled and rerun tasks count); more get RESOURCE_EXHAUSTED (429) until midnight UTC",
    20_000,
    0,
    100_000_000,
  ),
  dailyQuotaStandard: int(
    "DAILY_TASK_QUOTA_STANDARD",
    "tasks a standard tenant may create per UTC day",
    5_000,
    0,
    100_000_000,
  ),
  dailyQuotaBatch: int("DAILY_TASK_QUOTA_BATCH", "tasks a batch tenant may create per UTC day", 50_000, 0, 100_000_000),
  storedTasksVip: int(
    "STORED_TASKS_PER_TENANT_VIP",
    "tasks a vip tenant may hold in the store: created today or in the 30 days before (deleted, cancelled and cache-hit tasks included); more get RESOURCE_EXHAUSTED (429)",
    100_000,
    0,
    100_000_000,
  ),
  storedTasksStandard: int(
    "STORED_TASKS_PER_TENANT_STANDARD",
    "tasks a standard tenant may hold in the store (as above)",
    20_000,
    0,
    100_000_000,
  ),
  storedTasksBatch: int(
    "STORED_TASKS_PER_TENANT_BATCH",
    "tasks a batch tenant may hold in the store (as above)",
    200_000,
    0,
    100_000_000,
  ),
  videoBytesVipGb: int(
    "VIDEO_BYTES_PER_TENANT_VIP_GB",
    "GiB of videos and posters a vip tenant may hold in the results store (those completed today or in the days a result can be kept, up to 30; deleted and expired ones leave the count); at or past it new tasks get RESOURCE_EXHAUSTED (429); 0 refuses every new task",
    8,
    0,
    1_000_000,
  ),
  videoBytesStandardGb: int(
    "VIDEO_BYTES_PER_TENANT_STANDARD_GB",
    "GiB of videos and posters a standard tenant may hold (as above)",
    2,
    0,
    1_000_000,
  ),
  videoBytesBatchGb: int(
    "VIDEO_BYTES_PER_TENANT_BATCH_GB",
    "GiB of videos and posters a batch tenant may hold (as above)",
    4,
    0,
    1_000_000,
  ),
  apiKeyCacheSize: int(
    "API_KEY_CACHE_SIZE",
    "API key records held in memory (revocations reach them through a KV watch at once); the least recently used go first",
    10_000,
    1,
    1_000_000,
  ),
  queueStatsCacheSize: int(
    "QUEUE_STATS_CACHE_SIZE",
    "tenants whose queue depth (for admission) is held in memory, kept current by a KV watch",
    10_000,
    1,
    1_000_000,
  ),
  watchStreamsPerKey: int(
    "WATCH_STREAMS_PER_KEY",
    "open WatchTask and /v1/t2v/events streams one API key may hold; more get RESOURCE_EXHAUSTED (429)",
    100,
    1,
    1_000_000,
  ),
  watchStreamsPerTenant: int(
    "WATCH_STREAMS_PER_TENANT",
    "open WatchTask and /v1/t2v/events streams all keys of a tenant may hold together",
    500,
    1,
    1_000_000,
  ),
  watchStreamsMax: int(
    "WATCH_STREAMS_MAX",
    "open WatchTask and /v1/t2v/events streams this gateway holds in all, every tenant together; size it to the memory (bench/README.md)",
    10_000,
    1,
    1_000_000,
  ),
  watchStreamRetryMs: int(
    "WATCH_STREAM_RETRY_MS",
    "the RetryInfo (Retry-After) of a stream refused by its cap or dropped as a slow reader",
    5_000,
    100,
    3_600_000,
  ),
  watchStreamStallMs: int(
    "WATCH_STREAM_STALL_MS",
    "a stream whose client has not taken a waiting update for this long is closed (the client may reconnect)",
    30_000,
    100,
    3_600_000,
  ),
  watchStreamMaxBufferBytes: int(
    "WATCH_STREAM_MAX_BUFFER_BYTES",
    "a stream whose connection holds more unsent bytes than this is closed",
    1024 * 1024,
    16 * 1024,
    64 * 1024 * 1024,
  ),
  webhookAllow: allowList(
    "WEBHOOK_ALLOW_HOSTS",
    "host names, IP addresses or CIDRs webhooks may reach over http or at private addresses (development only)",
  ),
  webhookTimeoutMs: int(
    "WEBHOOK_TIMEOUT_MS",
    "time allowed for one webhook POST (connect to last response header); at most the webhooks consumer's ack wait less the DNS timeout and a margin",
    10_000,
    100,
    MAX_WEBHOOK_TIMEOUT_MS,
  ),
  webhookConcurrency: int(
    "WEBHOOK_CONCURRENCY",
    "webhook deliveries one gateway runs at once, for all tenants together",
    64,
    1,
    1_000,
  ),
  webhookConcurrencyPerTenant: int(
    "WEBHOOK_CONCURRENCY_PER_TENANT",
    "webhook deliveries one gateway runs at once for one tenant: a slow endpoint holds at most this many",
    4,
    1,
    1_000,
  ),
  webhookQueuedPerTenant: int(
    "WEBHOOK_QUEUED_PER_TENANT",
    "task changes one gateway holds waiting for a tenant's delivery slots; past it they go back to the stream and count as an attempt",
    16,
    0,
    1_000,
  ),
  dnsMaxConcurrent: int(
    "DNS_MAX_CONCURRENT",
    "webhook host lookups in flight at once (on the gateway's own resolver, not the libuv pool); more wait, and fail after DNS_TIMEOUT_MS",
    32,
    1,
    1_000,
  ),
  webhookRetryBaseMs: int(
    "WEBHOOK_RETRY_BASE_MS",
    "first retry delay; later ones follow the Standard Webhooks schedule scaled to it",
    5_000,
    10,
    3_600_000,
  ),
  pausedTtlHours: int(
    "PAUSED_TTL_HOURS",
    "how long a paused task keeps its checkpoint; then it is cancelled (PAUSE_EXPIRED). Below the checkpoint store's 48 h TTL",
    24,
    1,
    CHECKPOINTS_STORE.ttlMs / HOUR_MS - 1,
  ),
  webhookMaxAttempts: int("WEBHOOK_MAX_ATTEMPTS", "deliveries tried per event before giving up", 12, 1, 50),
  requestMaxBytes: int(
    "REQUEST_MAX_BYTES",
    "largest request message on any protocol (after decompression) and largest REST body; refused by content-length or once the count passes it",
    64 * 1024,
    1024,
    16 * 1024 * 1024,
  ),
  maxConnections: int("MAX_CONNECTIONS", "open connections the gateway accepts in all", 10_000, 1, 1_000_000),
  maxConnectionsPerAddress: int(
    "MAX_CONNECTIONS_PER_ADDRESS",
    "open connections one client address may hold; more are closed at once (behind a proxy, the proxy is the address)",
    128,
    1,
    1_000_000,
  ),
  sniffTimeoutMs: int(
    "SNIFF_TIMEOUT_MS",
    "time a new connection has to send its first bytes (HTTP/1.1 request line or the HTTP/2 preface)",
    5_000,
    100,
    120_000,
  ),
  headersTimeoutMs: int(
    "HEADERS_TIMEOUT_MS",
    "time a request's headers may take (HTTP/1.1), and an HTTP/2 connection has to open its first stream",
    10_000,
    100,
    300_000,
  ),
  bodyTimeoutMs: int(
    "BODY_TIMEOUT_MS",
    "time a request body may take, from its headers to its end (client- and bidi-streaming RPCs excepted)",
    30_000,
    100,
    3_600_000,
  ),
  idleTimeoutMs: int(
    "IDLE_TIMEOUT_MS",
    "a connection with no request in flight is closed after this long (HTTP/1.1 keep-alive, HTTP/2 without open streams)",
    30_000,
    100,
    3_600_000,
  ),
  http2MaxConcurrentStreams: int(
    "HTTP2_MAX_CONCURRENT_STREAMS",
    "streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)",
    100,
    1,
    10_000,
  ),
  maxHeaderBytes: int(
    "MAX_HEADER_BYTES",
    "largest header block of a request (HTTP/1.1 maxHeaderSize, HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE)",
    16 * 1024,
    1024,
    1024 * 1024,
  ),
  http2WindowBytes: int(
    "HTTP2_WINDOW_BYTES",
    "HTTP/2 flow-control window per stream (SETTINGS_INITIAL_WINDOW_SIZE): what a client may send before the gateway reads",
    64 * 1024,
    16 * 1024,
    16 * 1024 * 1024,
  ),
  http2SessionMemoryMb: int(
    "HTTP2_SESSION_MEMORY_MB",
    "memory one HTTP/2 connection may hold in frames not yet processed; past it new streams are refused",
    4,
    1,
    1024,
  ),
  authFailureRate: rate(
    "AUTH_FAILURE_RATE",
    "failed authentications per minute/burst per client address; past it calls from the address answer RESOURCE_EXHAUSTED (429) before any key lookup",
    "30/10",
  ),
  authFailureAddresses: int(
    "AUTH_FAILURE_ADDRESSES",
    "client addresses whose failed authentications are tracked at once (the oldest are forgotten first)",
    10_000,
    100,
    1_000_000,
  ),
  ...resultStoreFields,
};

export type GatewayConfig = ConfigOf<typeof gatewayConfig>;
