import { Resolver as AresResolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { ResolvedAddress, Resolver } from "../domain/webhook-target.js";

/** How long one webhook host lookup may take, waiting for a free lookup slot included. */
export const DNS_TIMEOUT_MS = 2_000;

export interface ResolverOptions {
  timeoutMs?: number;
  /** Lookups in flight at once; more wait for a slot (inside their timeout). */
  maxConcurrent?: number;
  /** Lookups allowed to wait for a slot; past it a lookup fails at once. */
  maxWaiting?: number;
  /** Name servers ("host:port"); the system's (/etc/resolv.conf) by default. */
  servers?: string[];
}

/**
 * Webhook host lookups on c-ares (node:dns Resolver), never getaddrinfo:
 * dns.lookup runs in libuv's 4-thread pool, and a timeout around it does not
 * free the thread, so a few names whose servers never answer would stall
 * zlib, fs and every other lookup. Each lookup here has its own resolver,
 * cancelled at the deadline, and at most `maxConcurrent` run at once.
 * /etc/hosts is not read; "localhost" names are loopback (RFC 6761).
 */
export function systemResolver(opts: ResolverOptions = {}): Resolver {
  const timeoutMs = opts.timeoutMs ?? DNS_TIMEOUT_MS;
  const maxConcurrent = opts.maxConcurrent ?? 32;
  const maxWaiting = opts.maxWaiting ?? 8 * maxConcurrent;
  let running = 0;
  const waiting: Array<() => void> = [];

  function release() {
    running--;
    waiting.shift()?.();
  }

  async function acquire(signal: AbortSignal): Promise<void> {
    if (running < maxConcurrent) {
      running++;
      return;
    }
    if (waiting.length >= maxWaiting) throw new Error("DNS busy");
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal.removeEventListener("abort", onAbort);
        running++;
        resolve();
      };
      const onAbort = () => {
        const i = waiting.indexOf(go);
        if (i >= 0) waiting.splice(i, 1);
        reject(new Error("DNS timeout"));
      };
      waiting.push(go);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async function query(hostname: string, signal: AbortSignal): Promise<ResolvedAddress[]> {
    // One try per half of the budget; c-ares gives up by itself, the deadline cancels anything left.
    const r = new AresResolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 1 });
    if (opts.servers) r.setServers(opts.servers);
    const cancel = () => r.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([r.resolve4(hostname), r.resolve6(hostname)]);
      const found: ResolvedAddress[] = [
        ...(v4.status === "fulfilled" ? v4.value.map((address) => ({ address, family: 4 })) : []),
        ...(v6.status === "fulfilled" ? v6.value.map((address) => ({ address, family: 6 })) : []),
      ];
      if (found.length > 0) return found;
      const err: unknown = v4.status === "rejected" ? v4.reason : v6.status === "rejected" ? v6.reason : undefined;
      if (signal.aborted || (err as { code?: string } | undefined)?.code === "ETIMEOUT") throw new Error("DNS timeout");
      throw err instanceof Error ? err : new Error(`no address for ${hostname}`);
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  }

  return async (hostname) => {
    if (isIP(hostname)) return [{ address: hostname, family: isIP(hostname) }];
    const name = hostname.toLowerCase().replace(/\.$/, "");
    if (name === "localhost" || name.endsWith(".localhost"))
      return [
        { address: "127.0.0.1", family: 4 },
        { address: "::1", family: 6 },
      ];
    const deadline = new AbortController();
    const { signal } = deadline;
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      await acquire(signal);
      try {
        return await Promise.race([
          query(name, signal),
          new Promise<never>((_, reject) => {
            signal.addEventListener("abort", () => reject(new Error("DNS timeout")), { once: true });
          }),
        ]);
      } finally {
        release();
      }
    } finally {
      clearTimeout(timer);
    }
  };
}
