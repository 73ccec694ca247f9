import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

/** What the node adapter hands to requests that are not RPCs (HTTP/1.1 or h2c). */
export type HttpHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
export type HttpRequest = Parameters<HttpHandler>[0];
export type HttpResponse = Parameters<HttpHandler>[1];

/** A route: true when it answered the request, false when the path is not its own. */
export type HttpRoute = (req: HttpRequest, res: HttpResponse, url: URL) => Promise<boolean>;

/** A request header's first value. */
export function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A JSON answer with its length. */
export function sendJson(res: HttpResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
  return true;
}
