/**
 * KV buckets owned by the gateway side of the mesh (API keys, tenants,
 * idempotency keys, shared secrets). Kept apart from topology.ts so the
 * scheduler's wiring and the gateway's can change independently.
 */
export const GatewayBuckets = {
  /** Key prefix -> ApiKey (hash only). */
  apiKeys: "t2v_api_keys",
  /** Tenant id -> Tenant (webhook signing secret). */
  tenants: "t2v_tenants",
  /** "<tenant>.<sha256(key)>" -> IdempotencyEntry; entries expire after IDEMPOTENCY_TTL_HOURS. */
  idempotency: "t2v_idempotency",
  /** Secrets every gateway replica must share (download-link signing). */
  secrets: "t2v_gateway_secrets",
  /** Task id -> empty: the receiver answered 410, stop sending this task's webhooks. */
  webhookDisabled: "t2v_webhook_disabled",
} as const;

export const IDEMPOTENCY_TTL_HOURS = 48;
