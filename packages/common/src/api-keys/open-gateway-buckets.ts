import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { openOrCreate } from "../nats/open-bucket.js";
import { GatewayBuckets, IDEMPOTENCY_TTL_HOURS } from "./gateway-buckets.js";

export interface GatewayKv {
  apiKeys: KV;
  tenants: KV;
  idempotency: KV;
  secrets: KV;
  webhookDisabled: KV;
}

// KV ttl is in milliseconds (the client converts to nanoseconds).
const HOUR_MS = 3600 * 1000;

/** Opens (creating when missing) the gateway's KV buckets. */
export async function openGatewayBuckets(nc: NatsConnection): Promise<GatewayKv> {
  const kvm = new Kvm(jetstream(nc));
  const open = (name: string, opts: Partial<KvOptions>) => openOrCreate(kvm, name, opts);
  const [apiKeys, tenants, idempotency, secrets, webhookDisabled] = await Promise.all([
    open(GatewayBuckets.apiKeys, { history: 1, storage: "file" }),
    open(GatewayBuckets.tenants, { history: 1, storage: "file" }),
    open(GatewayBuckets.idempotency, { history: 1, storage: "file", ttl: IDEMPOTENCY_TTL_HOURS * HOUR_MS }),
    open(GatewayBuckets.secrets, { history: 1, storage: "file" }),
    open(GatewayBuckets.webhookDisabled, { history: 1, storage: "file", ttl: 7 * 24 * HOUR_MS }),
  ]);
  return { apiKeys, tenants, idempotency, secrets, webhookDisabled };
}
