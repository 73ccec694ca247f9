import { fromBinary } from "@bufbuild/protobuf";
import type { Bus } from "../channels/bus/bus.js";
import { createKvCache, type KvCache } from "../channels/kv-cache.js";
import { type ApiKey, ApiKeySchema } from "../gen/t2v/internal/v1/gateway_state_pb.js";
import { API_KEYS_BUCKET, TENANTS_BUCKET } from "./api-key-buckets.js";
import { apiKeyMatches, apiKeyPrefix } from "./api-key-format.js";
import { type ApiKeyStore, createApiKeyStore } from "./api-key-store.js";

export interface CachedApiKeyStore extends ApiKeyStore {
  /** The key records held (by prefix), for tests and metrics. */
  readonly cache: KvCache<ApiKey>;
  stop(): void;
}

/**
 * The key store of a gateway: `verify` reads a key's record from the bucket
 * once, then from memory, kept current by one watch of the whole key bucket,
 * so a revocation (or deletion) takes effect as soon as the watch delivers it
 * (milliseconds; while the watch is down every call reads the bucket).
 * `revoked` rides the same watch: no consumer per open stream. The record
 * holds the key's SHA-256 only; each call still compares the key with it.
 */
export async function openCachedApiKeyStore(bus: Bus, maxKeys: number): Promise<CachedApiKeyStore> {
  const [apiKeys, tenants] = await Promise.all([bus.kv(API_KEYS_BUCKET), bus.kv(TENANTS_BUCKET)]);
  const store = createApiKeyStore({ apiKeys, tenants });
  const cache = createKvCache(apiKeys, {
    decode: (v) => fromBinary(ApiKeySchema, v),
    maxEntries: maxKeys,
    // Unknown prefixes are not held: guessed keys must not push real ones out.
    cacheMissing: false,
  });
  const gone = (r: ApiKey | null): boolean => r === null || r.revoked;

  return {
    ...store,
    cache,
    stop: () => cache.stop(),

    async verify(key) {
      const prefix = apiKeyPrefix(key);
      if (prefix === null) return null;
      const record = await cache.get(prefix);
      return record && !record.revoked && apiKeyMatches(key, record.secretSha256) ? record : null;
    },

    async revoked(prefix, signal) {
      if (signal.aborted) return false;
      if (!cache.live()) return store.revoked(prefix, signal);
      return new Promise<boolean>((resolve, reject) => {
        const done = (revoked: boolean): void => {
          off();
          signal.removeEventListener("abort", onAbort);
          resolve(revoked);
        };
        const onAbort = (): void => done(false);
        // Listening first, then reading: a revocation in between is heard either way.
        const off = cache.onChange(prefix, (r) => {
          if (gone(r)) done(true);
        });
        signal.addEventListener("abort", onAbort, { once: true });
        cache.get(prefix).then(
          (r) => {
            if (gone(r)) done(true);
          },
          (err: unknown) => {
            off();
            signal.removeEventListener("abort", onAbort);
            reject(err);
          },
        );
      });
    },
  };
}
