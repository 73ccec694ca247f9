import { fromBinary } from "@bufbuild/protobuf";
import { type ConnectError, type ContextValues, createConnectRouter, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import {
  type ConnectNodeAdapterOptions,
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import type { Caller } from "../../domain/caller.js";
import { asServiceError } from "../dependency-failure.js";
import { clientAddress } from "../http/client-address.js";
import { dropUnreadAfter } from "../http/drop-unread.js";
import { type HttpRequest, type HttpResponse, header, sendJson } from "../http/node-http.js";
import { errorResponse } from "../rest/error-response.js";
import { binaryBodyParses } from "./binary-body-check.js";
import { callerKey, refusalKey } from "./caller-context.js";
import { MALFORMED_HEADER as MALFORMED } from "./malformed-protobuf-interceptor.js";
import { type BodyLimits, ENVELOPE_ALLOWANCE, guardBody, requestTooLarge } from "./request-body-guard.js";

export interface GatewayAdapterOptions extends ConnectNodeAdapterOptions {
  readMaxBytes: number;
  /** Deadline of a request body (unary and server-streaming RPCs). */
  bodyTimeoutMs: number;
  /** Authenticates (and charges) a VideoService call before a byte of its body is read. */
  admit: (authorization: string | null, address: string) => Promise<Caller>;
  log: Logger;
}

/**
 * connectNodeAdapter, plus what the gateway's door needs before connect-es
 * reads a request:
 * - A VideoService call is authenticated first, so a client without a key
 *   never gets its body read; a refusal (no key, rate limits) is answered by
 *   the refusal interceptor in whichever protocol the call used.
 * - Single-message bodies are refused by content-length, then by a running
 *   count and a deadline (`guardBody`); connect-es bounds each message after
 *   decompression to readMaxBytes. Once refused, the rest of the request is dropped.
 * - connect-es reports binary Protobuf that does not parse as INTERNAL (its
 *   JSON twin is INVALID_ARGUMENT); garbage from a client is the client's
 *   error, so single-message requests are parsed once up front, and a bad one
 *   is swapped for an empty message and flagged for `malformedProtobufInterceptor`.
 */
export function gatewayNodeAdapter(options: GatewayAdapterOptions) {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);
  const wireMax = options.readMaxBytes + ENVELOPE_ALLOWANCE;
  return (req: HttpRequest, res: HttpResponse): void => {
    let refused = false;
    const refuse = () => {
      if (!refused) dropUnreadAfter(req, res);
      refused = true;
    };
    const declared = Number(header(req, "content-length") ?? "0");
    const handler = paths.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      if (declared > wireMax) {
        refuse();
        const r = errorResponse(requestTooLarge(options.readMaxBytes));
        sendJson(res, r.status, r.body, r.headers);
        return;
      }
      options.fallback?.(req, res);
      return;
    }
    const single = handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming";
    const values = options.contextValues?.(req) ?? createContextValues();
    const uReq = universalRequestFromNodeRequest(req, res, undefined, values);
    const limits: BodyLimits = single
      ? { maxBytes: options.readMaxBytes, timeoutMs: options.bodyTimeoutMs }
      : { maxBytes: null, timeoutMs: null };
    admitted(handler, values, req, options)
      .then(async (err) => {
        if (err) return refusal(uReq, values, err, refuse);
        if (single && declared > wireMax) return refusal(uReq, values, requestTooLarge(options.readMaxBytes), refuse);
        const guarded = isByteStream(uReq.body) ? { ...uReq, body: guardBody(uReq.body, limits, refuse) } : uReq;
        return checked(handler, guarded).catch((e: unknown) =>
          refusal(uReq, values, asServiceError(e, options.log, {}), refuse),
        );
      })
      .then((r) => handler(r))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch(() => {
        // The protocol handler already answered; only a vanished client gets here.
        if (!res.headersSent) res.destroy();
      });
  };
}

/** The caller, set on the request's context values; or why the call is refused. */
async function admitted(
  handler: UniversalHandler,
  values: ContextValues,
  req: HttpRequest,
  options: GatewayAdapterOptions,
): Promise<ConnectError | null> {
  if (handler.service.typeName !== VideoService.typeName) return null;
  try {
    values.set(callerKey, await options.admit(header(req, "authorization") ?? null, clientAddress(req)));
    return null;
  } catch (err) {
    return asServiceError(err, options.log, { procedure: handler.requestPath });
  }
}

/**
 * The request with its message replaced by an empty one (nothing more is
 * read) and the error set for `refusalInterceptor`, which throws it in the
 * call's own protocol, with its details.
 */
function refusal(
  req: UniversalServerRequest,
  values: ContextValues,
  err: ConnectError,
  refuse: () => void,
): UniversalServerRequest {
  refuse();
  values.set(refusalKey, err);
  req.header.delete(MALFORMED);
  req.header.delete("content-length");
  req.header.delete("content-encoding");
  req.header.delete("connect-content-encoding");
  if (req.method === "GET") {
    const url = new URL(req.url, "http://x");
    const json = url.searchParams.get("encoding") === "json";
    url.searchParams.delete("compression");
    url.searchParams.delete("base64");
    url.searchParams.set("message", json ? "{}" : "");
    return { ...req, url: url.toString() };
  }
  const type = req.header.get("content-type") ?? "";
  const json = /json/.test(type);
  const message = json ? Buffer.from("{}") : new Uint8Array(0);
  const enveloped = /^application\/(grpc|grpc-web|connect)(\+|;|$)/.test(type);
  if (!enveloped) return { ...req, body: replay(message, null) };
  const frame = new Uint8Array(5 + message.length);
  frame.set([0, 0, 0, 0, message.length], 0);
  frame.set(message, 5);
  return { ...req, body: replay(frame, null) };
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
  // The guarded body throws past its limit, so this holds at most readMaxBytes + ENVELOPE_ALLOWANCE.
  const chunks: Uint8Array[] = [];
  for await (const c of req.body) chunks.push(c);
  const body = Buffer.concat(chunks);
  const enveloped = type !== "application/proto" && !type.startsWith("application/proto;");
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
