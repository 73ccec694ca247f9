import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Tenant ids are safe as KV key parts and log fields. */
export function isTenantId(s: string): boolean {
  return TENANT_ID.test(s);
}

// "t2v_" + 12 hex (the visible prefix, also the lookup key) + "_" + 43 base64url chars (256 bits).
const KEY = /^t2v_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface MintedKey {
  /** The whole key: shown once, never stored. */
  key: string;
  prefix: string;
  sha256: Uint8Array;
}

export function mintApiKey(): MintedKey {
  const prefix = randomBytes(6).toString("hex");
  const key = `t2v_${prefix}_${randomBytes(32).toString("base64url")}`;
  return { key, prefix, sha256: hashApiKey(key) };
}

/** The prefix of a well-formed key, or null. */
export function apiKeyPrefix(key: string): string | null {
  return KEY.exec(key)?.[1] ?? null;
}

export function hashApiKey(key: string): Uint8Array {
  return createHash("sha256").update(key, "utf8").digest();
}

/** Constant-time comparison of the key's hash with a stored one. */
export function apiKeyMatches(key: string, storedSha256: Uint8Array): boolean {
  const h = hashApiKey(key);
  return storedSha256.length === h.length && timingSafeEqual(h, storedSha256);
}

/** A Standard Webhooks secret: "whsec_" + base64 of 32 random bytes. */
export function mintWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}
