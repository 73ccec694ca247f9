import type { ServingState } from "../rpc/serving-state.js";
import type { HttpRoute } from "./node-http.js";

/** `/healthz` (the process is up) and `/readyz` (it can take work) on the gateway's own port, for HTTP probes. */
export function createProbes(health: ServingState): HttpRoute {
  return async (_req, res, url) => {
    const path = url.pathname;
    if (path !== "/healthz" && path !== "/readyz") return false;
    const ok = path === "/healthz" || health.serving;
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
    res.end(ok ? "ok\n" : "not ready\n");
    return true;
  };
}
