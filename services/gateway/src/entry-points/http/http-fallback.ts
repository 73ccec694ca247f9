import type { Logger } from "@t2v/common/logger";
import { asServiceError } from "../dependency-failure.js";
import { type HttpHandler, type HttpRequest, type HttpResponse, type HttpRoute, sendJson } from "./node-http.js";

/**
 * Everything on the port that is not an RPC: each route in turn until one
 * answers, else 404. A route that fails on a dependency answers 503.
 */
export function createHttpFallback(routes: HttpRoute[], log: Logger): HttpHandler {
  async function serve(req: HttpRequest, res: HttpResponse, url: URL): Promise<boolean> {
    for (const route of routes) if (await route(req, res, url)) return true;
    return false;
  }
  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://x");
    } catch {
      res.writeHead(400);
      res.end();
      return;
    }
    serve(req, res, url).then(
      (handled) => {
        if (!handled) sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
      },
      (err: unknown) => {
        const e = asServiceError(err, log, { path: url.pathname });
        if (!res.headersSent) sendJson(res, 503, { error: e.rawMessage });
        else res.end();
      },
    );
  };
}
