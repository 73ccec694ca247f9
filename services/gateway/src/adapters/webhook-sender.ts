import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { ResolvedAddress } from "../domain/webhook-target.js";

export type SendOutcome = { kind: "delivered"; status: number } | { kind: "gone" } | { kind: "failed"; reason: string };

/**
 * POSTs one webhook to the address that was checked, never to a fresh DNS
 * answer (a rebinding name cannot swap in an internal address between the
 * check and the connect). TLS still verifies the URL's host name. Redirects
 * are not followed: a 3xx is a failure like any other non-2xx.
 */
export function sendWebhook(
  url: URL,
  target: ResolvedAddress,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SendOutcome> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts.all) cb(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    const req = mod.request(
      url,
      {
        method: "POST",
        lookup: pinned,
        timeout: timeoutMs,
        agent: false,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "t2v-webhooks/1",
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        // Drain a little of the body only; a huge answer must not tie us up.
        res.resume();
        res.destroy();
        if (status >= 200 && status < 300) resolve({ kind: "delivered", status });
        else if (status === 410) resolve({ kind: "gone" });
        else resolve({ kind: "failed", reason: `HTTP ${status}` });
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error("timed out")), timeoutMs);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err) => resolve({ kind: "failed", reason: err.message }));
    req.on("close", () => clearTimeout(deadline));
    req.end(body);
  });
}
