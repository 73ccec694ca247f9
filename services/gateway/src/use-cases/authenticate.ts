import { Code, ConnectError } from "@connectrpc/connect";
import type { ApiKeyStore } from "@t2v/common/api-keys";
import { isTier } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The caller behind an Authorization header; UNAUTHENTICATED for a missing,
 * malformed, unknown or revoked key. The key itself never reaches a log or an
 * error message.
 */
export async function authenticate(header: string | null | undefined, keys: ApiKeyStore): Promise<Caller> {
  if (!header) throw new ConnectError("missing API key: send Authorization: Bearer <key>", Code.Unauthenticated);
  const key = BEARER.exec(header)?.[1];
  const record = key ? await keys.verify(key) : null;
  if (!record || !isTier(record.tier)) throw new ConnectError("invalid or revoked API key", Code.Unauthenticated);
  return { tenantId: record.tenantId, tier: record.tier, keyPrefix: record.prefix };
}
