import { classifyAddress } from "./address-policy.js";
import type { AllowList } from "./allow-list.js";

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The form of a webhook URL, before any DNS: https (or an allow-listed host), no credentials. */
export function checkWebhookUrlForm(raw: string, allow: AllowList): UrlCheck {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH)
    return { ok: false, reason: `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not an absolute URL" };
  }
  const listed = allow.hasHost(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && listed))
    return { ok: false, reason: "must use https" };
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "must not contain credentials" };
  if (url.hostname === "") return { ok: false, reason: "must name a host" };
  return { ok: true, url };
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type TargetCheck = { ok: true; target: ResolvedAddress } | { ok: false; reason: string };

/**
 * Picks the address to connect to. Every resolved address must be public (or
 * allow-listed): a name that resolves to one public and one internal address
 * is refused, since the client could otherwise be steered to the internal one.
 */
export function chooseTarget(hostname: string, resolved: ResolvedAddress[], allow: AllowList): TargetCheck {
  if (resolved.length === 0) return { ok: false, reason: "does not resolve" };
  const listedHost = allow.hasHost(hostname);
  for (const r of resolved) {
    const cls = classifyAddress(r.address);
    if (cls !== "public" && !listedHost && !allow.hasAddress(r.address))
      return { ok: false, reason: `resolves to a ${cls} address, which is not allowed` };
  }
  const first = resolved[0];
  return first ? { ok: true, target: first } : { ok: false, reason: "does not resolve" };
}

/** Resolves a host name to its addresses (injected: the system resolver in production, a table in tests). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type WebhookTargetCheck =
  | { ok: true; url: URL; target: ResolvedAddress }
  | { ok: false; reason: string; stage: "form" | "dns" | "address" };

/**
 * The whole check of a webhook URL, at submit and again before each send:
 * its form, then its DNS answer, every address of which must be allowed.
 * A name that does not resolve is told apart (`stage: "dns"`), since that
 * may pass while a refused form or address will not.
 */
export async function checkWebhookTarget(
  raw: string,
  allow: AllowList,
  resolve: Resolver,
): Promise<WebhookTargetCheck> {
  const form = checkWebhookUrlForm(raw, allow);
  if (!form.ok) return { ...form, stage: "form" };
  const hostname = form.url.hostname.replace(/^\[|\]$/g, "");
  let resolved: ResolvedAddress[];
  try {
    resolved = await resolve(hostname);
  } catch {
    return { ok: false, reason: "does not resolve", stage: "dns" };
  }
  const target = chooseTarget(hostname, resolved, allow);
  if (target.ok) return { ok: true, url: form.url, target: target.target };
  return { ok: false, reason: target.reason, stage: resolved.length === 0 ? "dns" : "address" };
}
