import { CHECKPOINTS_STORE, HOUR_MS } from "@t2v/common/channels";
import { type ConfigOf, commonFields, type Field, int, str } from "@t2v/common/config";
import { resultStoreFields } from "@t2v/common/s3-store";
import { type AllowList, parseAllowList } from "./domain/allow-list.js";

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
  webhookAllow: allowList(
    "WEBHOOK_ALLOW_HOSTS",
    "host names, IP addresses or CIDRs webhooks may reach over http or at private addresses (development only)",
  ),
  webhookTimeoutMs: int("WEBHOOK_TIMEOUT_MS", "time allowed for one webhook delivery", 10_000, 100, 60_000),
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
  ...resultStoreFields,
};

export type GatewayConfig = ConfigOf<typeof gatewayConfig>;
