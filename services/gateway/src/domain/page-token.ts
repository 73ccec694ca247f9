import { createHmac, timingSafeEqual } from "node:crypto";

/** Where a ListTasks page stopped: the status filter it was made for, a UTC day and the next slot down (0: the day's top). */
export interface PageCursor {
  readonly status: number;
  readonly day: number;
  readonly slot: number;
}

export interface Page<T> {
  items: T[];
  next: string;
}

const MAX_SLOT = 2 ** 31 - 1;
const MAC_BYTES = 16;

/** The page-token key, derived from the download-link secret so one secret serves two purposes without sharing a MAC. */
export function pageTokenKey(secret: Uint8Array): Uint8Array {
  return createHmac("sha256", secret).update("t2v page tokens v2").digest();
}

function mac(key: Uint8Array, tenantId: string, payload: string): Buffer {
  return createHmac("sha256", key).update(`${tenantId}\n${payload}`).digest().subarray(0, MAC_BYTES);
}

/**
 * Page tokens are opaque to clients: the cursor and an HMAC over it and the
 * tenant, so a token cannot be edited, nor used by another tenant.
 */
export function encodePageToken(key: Uint8Array, tenantId: string, c: PageCursor): string {
  const payload = `v2.${c.status}.${c.day}.${c.slot}`;
  return `${Buffer.from(payload).toString("base64url")}.${mac(key, tenantId, payload).toString("base64url")}`;
}

/**
 * The cursor of a token this gateway (or a replica) made for this tenant and
 * this status filter, within `[minDay, maxDay]`; null for anything else.
 */
export function decodePageToken(
  key: Uint8Array,
  tenantId: string,
  token: string,
  want: { status: number; minDay: number; maxDay: number },
): PageCursor | null {
  const m = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m?.[1] || !m[2]) return null;
  const payload = Buffer.from(m[1], "base64url").toString("utf8");
  const got = Buffer.from(m[2], "base64url");
  const expected = mac(key, tenantId, payload);
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return null;
  const p = /^v2\.(\d{1,2})\.(\d{1,6})\.(\d{1,10})$/.exec(payload);
  if (!p) return null;
  const [status, day, slot] = [Number(p[1]), Number(p[2]), Number(p[3])];
  if (status !== want.status || day < want.minDay || day > want.maxDay || slot > MAX_SLOT) return null;
  return { status, day, slot };
}
