import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Resolver } from "../domain/webhook-target.js";

/** How long one webhook host lookup may take. */
export const DNS_TIMEOUT_MS = 2_000;

/** System resolver (getaddrinfo, so /etc/hosts counts), bounded in time. */
export function systemResolver(timeoutMs = DNS_TIMEOUT_MS): Resolver {
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
