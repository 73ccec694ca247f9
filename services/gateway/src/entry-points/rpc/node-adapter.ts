import { fromBinary } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import {
  type ConnectNodeAdapterOptions,
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { binaryBodyParses } from "./binary-body-check.js";
import { MALFORMED_HEADER as MALFORMED } from "./malformed-protobuf-interceptor.js";

const READ_CHECK_MAX = 1024 * 1024;

/**
 * connectNodeAdapter, plus one fix: connect-es reports a request whose binary
 * Protobuf does not parse as INTERNAL (its JSON twin is INVALID_ARGUMENT).
 * Garbage from a client is the client's error, so single-message requests
 * are parsed once up front, and a bad one is swapped for an empty message
 * and flagged for `malformedProtobufInterceptor` (its own file), which
 * answers INVALID_ARGUMENT in whichever protocol the call used.
 */
export function gatewayNodeAdapter(options: ConnectNodeAdapterOptions) {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);
  return (...[req, res]: Parameters<NonNullable<ConnectNodeAdapterOptions["fallback"]>>): void => {
    const handler = paths.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      options.fallback?.(req, res);
      return;
    }
    const uReq = universalRequestFromNodeRequest(req, res, undefined, options.contextValues?.(req));
    checked(handler, uReq)
      .then((r) => handler(r))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch(() => {
        // The protocol handler already answered; only a vanished client gets here.
        if (!res.headersSent) res.destroy();
      });
  };
}

async function checked(handler: UniversalHandler, req: UniversalServerRequest): Promise<UniversalServerRequest> {
  req.header.delete(MALFORMED);
  const kind = handler.method.methodKind;
  if (kind !== "unary" && kind !== "server_streaming") return req;
  const parse = (m: Uint8Array): void => void fromBinary(handler.method.input, m);
  if (req.method === "GET") {
    const url = new URL(req.url, "http://x");
    if (url.searchParams.get("encoding") !== "proto" || url.searchParams.has("compression")) return req;
    const raw = url.searchParams.get("message") ?? "";
    const bytes = Buffer.from(raw, url.searchParams.get("base64") === "1" ? "base64url" : "latin1");
    if (binaryBodyParses(bytes, false, parse)) return req;
    url.searchParams.set("message", "");
    req.header.set(MALFORMED, "1");
    return { ...req, url: url.toString() };
  }
  const type = req.header.get("content-type") ?? "";
  const binary = /^application\/(grpc(-web)?(\+proto)?|proto|connect\+proto)(;|$)/.test(type);
  if (!binary || req.header.has("content-encoding") || !isByteStream(req.body)) return req;
  // Read by hand (not for-await) so stopping early does not close the stream.
  const it = req.body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (
    let r = await it.next();
    !r.done;
    r = size > READ_CHECK_MAX ? { done: true, value: undefined } : await it.next()
  ) {
    chunks.push(r.value);
    size += r.value.length;
  }
  const body = Buffer.concat(chunks);
  const enveloped = type !== "application/proto" && !type.startsWith("application/proto;");
  // Bodies over the limit go on untouched; the handler refuses them by size.
  if (size > READ_CHECK_MAX) return { ...req, body: replay(body, { [Symbol.asyncIterator]: () => it }) };
  if (binaryBodyParses(body, enveloped, parse)) return { ...req, body: replay(body, null) };
  req.header.set(MALFORMED, "1");
  return { ...req, body: replay(enveloped ? new Uint8Array(5) : new Uint8Array(0), null) };
}

function isByteStream(body: UniversalServerRequest["body"]): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

async function* replay(head: Uint8Array, rest: AsyncIterable<Uint8Array> | null): AsyncIterable<Uint8Array> {
  yield head;
  if (rest) yield* rest;
}
