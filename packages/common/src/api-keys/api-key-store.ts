import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Bus, KvBucket } from "../channels/bus/bus.js";
import { type ApiKey, ApiKeySchema, type Tenant, TenantSchema } from "../gen/t2v/internal/v1/gateway_state_pb.js";
import type { Tier } from "../task/tiers.js";
import { API_KEYS_BUCKET, TENANTS_BUCKET } from "./api-key-buckets.js";
import { apiKeyMatches, apiKeyPrefix, isTenantId, mintApiKey, mintWebhookSecret } from "./api-key-format.js";

export interface CreatedKey {
  /** The whole key, to show once. */
  key: string;
  record: ApiKey;
  tenant: Tenant;
}

export interface ApiKeyStore {
  create(opts: { tenantId: string; tier: Tier; name?: string }): Promise<CreatedKey>;
  list(): Promise<ApiKey[]>;
  /** False when no key has this prefix. */
  revoke(prefix: string): Promise<boolean>;
  /** The key's record when it is well formed, known and not revoked; null otherwise. */
  verify(key: string): Promise<ApiKey | null>;
  /** The tenant, created (with a webhook secret) on first use. */
  tenant(tenantId: string): Promise<Tenant>;
  /** Resolves true once the key is revoked or deleted (at once when it already is), false when `signal` aborts first. */
  revoked(prefix: string, signal: AbortSignal): Promise<boolean>;
}

/** Opens the key and tenant buckets (creating them when missing). */
export async function openApiKeyStore(bus: Bus): Promise<ApiKeyStore> {
  const [apiKeys, tenants] = await Promise.all([bus.kv(API_KEYS_BUCKET), bus.kv(TENANTS_BUCKET)]);
  return createApiKeyStore({ apiKeys, tenants });
}

export function createApiKeyStore(kv: { apiKeys: KvBucket; tenants: KvBucket }): ApiKeyStore {
  async function tenant(tenantId: string): Promise<Tenant> {
    for (let i = 0; i < 3; i++) {
      const e = await kv.tenants.get(tenantId);
      if (e) return fromBinary(TenantSchema, e.value);
      const t = create(TenantSchema, { tenantId, webhookSecret: mintWebhookSecret(), createTime: timestampNow() });
      // null: another writer created it first; read theirs.
      if ((await kv.tenants.create(tenantId, toBinary(TenantSchema, t))) !== null) return t;
    }
    throw new Error(`tenant ${tenantId}: could not be read or created`);
  }

  return {
    tenant,

    async create({ tenantId, tier, name = "" }) {
      if (!isTenantId(tenantId)) throw new Error(`tenant id "${tenantId}" must match [a-z0-9][a-z0-9_-]{0,62}`);
      const t = await tenant(tenantId);
      const minted = mintApiKey();
      const record = create(ApiKeySchema, {
        prefix: minted.prefix,
        secretSha256: minted.sha256,
        tenantId,
        tier,
        name,
        createTime: timestampNow(),
      });
      if ((await kv.apiKeys.create(minted.prefix, toBinary(ApiKeySchema, record))) === null)
        throw new Error("key prefix collision; try again");
      return { key: minted.key, record, tenant: t };
    },

    async list() {
      const out: ApiKey[] = [];
      for (const k of await kv.apiKeys.keys()) {
        const e = await kv.apiKeys.get(k);
        if (e) out.push(fromBinary(ApiKeySchema, e.value));
      }
      return out.sort((a, b) => Number((a.createTime?.seconds ?? 0n) - (b.createTime?.seconds ?? 0n)));
    },

    async revoke(prefix) {
      if (!/^[0-9a-f]{12}$/.test(prefix)) return false;
      const e = await kv.apiKeys.get(prefix);
      if (!e) return false;
      const record = fromBinary(ApiKeySchema, e.value);
      if (record.revoked) return true;
      record.revoked = true;
      record.revokeTime = timestampNow();
      await kv.apiKeys.put(prefix, toBinary(ApiKeySchema, record));
      return true;
    },

    async revoked(prefix, signal) {
      // The KV watch pushes the change: no polling, and it ends with the signal.
      for await (const e of kv.apiKeys.watch(prefix, signal)) {
        if (e === null || fromBinary(ApiKeySchema, e.value).revoked) return true;
      }
      return false;
    },

    async verify(key) {
      const prefix = apiKeyPrefix(key);
      if (prefix === null) return null;
      const e = await kv.apiKeys.get(prefix);
      if (!e) return null;
      const record = fromBinary(ApiKeySchema, e.value);
      return !record.revoked && apiKeyMatches(key, record.secretSha256) ? record : null;
    },
  };
}
