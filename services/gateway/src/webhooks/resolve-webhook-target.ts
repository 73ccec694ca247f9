import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { AllowList } from "./allow-list.js";
import { chooseTarget, type ResolvedAddress, type TargetCheck } from "./webhook-target.js";

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** System resolver (getaddrinfo, so /etc/hosts counts), bounded in time. */
export function systemResolver(timeoutMs: number): Resolver {
  return async (hostname) => {
    if (isIP(hostname)) return [{ address: hostname, family: isIP(hostname) }];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("DNS timeout")), timeoutMs);
    });
    try {
      return await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Resolves and checks a webhook host; DNS failures are answered like a refusal. */
export async function resolveWebhookTarget(url: URL, allow: AllowList, resolve: Resolver): Promise<TargetCheck> {
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  let resolved: ResolvedAddress[];
  try {
    resolved = await resolve(hostname);
  } catch {
    return { ok: false, reason: "does not resolve" };
  }
  return chooseTarget(hostname, resolved, allow);
}
