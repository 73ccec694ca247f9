import type { BucketSpec } from "../channels/bus/bus.js";

/** Key prefix -> ApiKey (the key's SHA-256 only, never the key). */
export const API_KEYS_BUCKET: BucketSpec = { name: "t2v_api_keys", ttlMs: 0, history: 1 };
/** Tenant id -> Tenant (its webhook signing secret). */
export const TENANTS_BUCKET: BucketSpec = { name: "t2v_tenants", ttlMs: 0, history: 1 };
