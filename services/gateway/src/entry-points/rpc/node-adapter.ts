import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, createConnectRouter, createContextValues } from "@connectrpc/connect";
import type { Compression, UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
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
import {
  type BodyLimits,
  ENVELOPE_ALLOWANCE,
  guardBody,
  KEYLESS_MAX_BYTES,
  requestTooLarge,
} from "./request-body-guard.js";

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
 *   decompression to readMaxBytes. Services that need no key (health,
 *   reflection) get KEYLESS_MAX_BYTES. Once refused, the rest of the request is dropped.
 * - connect-es reports binary Protobuf that does not parse as INTERNAL (its
 *   JSON twin is INVALID_ARGUMENT); garbage from a client is the client's
 *   error, so single-message requests are parsed once up front, and a bad one
 *   is swapped for an empty message and flagged for `malformedProtobufInterceptor`.
 *   Compressed messages too (`decompressed`), and frames that claim a
 *   compression the request did not declare, or do not decompress (`clientFault`).
 */
export function gatewayNodeAdapter(options: GatewayAdapterOptions) {
  const router = createConnectRouter({ acceptCompression: COMPRESSIONS, ...options });
  options.routes(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, h);
  const anyMax = options.readMaxBytes + ENVELOPE_ALLOWANCE;
  return (req: HttpRequest, res: HttpResponse): void => {
    let refused = false;
    const refuse = () => {
      if (!refused) dropUnreadAfter(req, res);
      refused = true;
    };
    const declared = Number(header(req, "content-length") ?? "0");
    const handler = paths.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      if (declared > anyMax) {
        refuse();
        const r = errorResponse(requestTooLarge(options.readMaxBytes));
        sendJson(res, r.status, r.body, r.headers);
        return;
      }
      options.fallback?.(req, res);
      return;
    }
    const single = handler.method.methodKind === "unary" || handler.method.methodKind === "server_streaming";
    const maxBytes = needsKey(handler) ? options.readMaxBytes : Math.min(options.readMaxBytes, KEYLESS_MAX_BYTES);
    const wireMax = maxBytes + ENVELOPE_ALLOWANCE;
    const values = options.contextValues?.(req) ?? createContextValues();
    const uReq = universalRequestFromNodeRequest(req, res, undefined, values);
    const limits: BodyLimits = single
      ? { maxBytes, timeoutMs: options.bodyTimeoutMs }
      : { maxBytes: null, timeoutMs: null };
    admitted(handler, values, req, options)
      .then(async (err) => {
        if (err) return refusal(uReq, values, err, refuse);
        if (single && declared > wireMax) return refusal(uReq, values, requestTooLarge(maxBytes), refuse);
        const guarded = isByteStream(uReq.body) ? { ...uReq, body: guardBody(uReq.body, limits, refuse) } : uReq;
        return checked(handler, guarded, maxBytes).catch((e: unknown) =>
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
  if (!needsKey(handler)) return null;
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

function needsKey(handler: UniversalHandler): boolean {
  return handler.service.typeName === VideoService.typeName;
}

async function checked(
  handler: UniversalHandler,
  req: UniversalServerRequest,
  maxBytes: number,
): Promise<UniversalServerRequest> {
  req.header.delete(MALFORMED);
  const kind = handler.method.methodKind;
  if (kind !== "unary" && kind !== "server_streaming") return req;
  const parse = (m: Uint8Array): void => void fromBinary(handler.method.input, m);
  if (req.method === "GET") {
    const url = new URL(req.url, "http://x");
    if (url.searchParams.get("encoding") !== "proto" || url.searchParams.has("compression")) return req;
    const raw = url.searchParams.get("message") ?? "";
    const bytes = Buffer.from(raw, url.searchParams.get("base64") === "1" ? "base64url" : "latin1");
    if (binaryBodyParses(bytes, false, parse, false)) return req;
    url.searchParams.set("message", "");
    req.header.set(MALFORMED, "1");
    return { ...req, url: url.toString() };
  }
  const type = req.header.get("content-type") ?? "";
  const binary = /^application\/(grpc(-web)?(\+proto)?|proto|connect\+proto)(;|$)/.test(type);
  const enveloped = /^application\/(grpc|grpc-web|connect)(\+|;|$)/.test(type);
  if (!(binary || enveloped) || req.header.has("content-encoding") || !isByteStream(req.body)) return req;
  // The guarded body throws past its limit, so this holds at most readMaxBytes + ENVELOPE_ALLOWANCE.
  const chunks: Uint8Array[] = [];
  for await (const c of req.body) chunks.push(c);
  const body = Buffer.concat(chunks);
  const encoding = req.header.get("grpc-encoding") ?? req.header.get("connect-content-encoding") ?? "identity";
  // JSON messages are parsed (and refused as INVALID_ARGUMENT) by connect-es; only their framing is checked here.
  const check = binary ? parse : () => undefined;
  const inflated = enveloped && binary ? await decompressed(body, encoding, maxBytes) : body;
  if (binaryBodyParses(inflated, enveloped, check, encoding !== "identity"))
    return { ...req, body: replay(body, null) };
  req.header.set(MALFORMED, "1");
  return { ...req, body: replay(enveloped ? new Uint8Array(5) : new Uint8Array(0), null) };
}

/**
 * The body with its compressed frames decompressed, so that their messages
 * are checked too: connect-es would call a compressed message that does not
 * parse INTERNAL. All of them together inflate to at most `maxBytes` (a body
 * of many small bombs costs no more than one); a frame that does not
 * decompress, or is past that, is left compressed for connect-es to refuse.
 */
async function decompressed(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const compression = COMPRESSIONS.find((c) => c.name === encoding);
  if (!compression) return body;
  const frames: Uint8Array[] = [];
  let budget = maxBytes;
  let at = 0;
  while (at + 5 <= body.length) {
    const end = at + 5 + body.readUInt32BE(at + 1);
    if (end > body.length) break;
    const flags = body[at] ?? 0;
    const message = body.subarray(at + 5, end);
    const plain = flags & 0x01 && budget > 0 ? await compression.decompress(message, budget).catch(() => null) : null;
    if (plain) {
      budget -= Math.max(1, plain.length);
      const head = Buffer.alloc(5);
      head[0] = flags & ~0x01;
      head.writeUInt32BE(plain.length, 1);
      frames.push(head, plain);
    } else frames.push(body.subarray(at, end));
    at = end;
  }
  frames.push(body.subarray(at));
  return Buffer.concat(frames);
}

/**
 * Bytes from a client that do not decompress are the client's error: connect-es
 * answers INTERNAL for some (brotli's), INVALID_ARGUMENT for others (gzip's).
 */
function clientFault(c: Compression): Compression {
  return {
    name: c.name,
    compress: (bytes) => c.compress(bytes),
    decompress: (bytes, readMaxBytes) =>
      c.decompress(bytes, readMaxBytes).catch((err: unknown) => {
        const e = ConnectError.from(err);
        if (e.code === Code.ResourceExhausted) throw e;
        throw new ConnectError(
          "request message could not be decompressed",
          Code.InvalidArgument,
          undefined,
          undefined,
          err,
        );
      }),
  };
}

const COMPRESSIONS = [clientFault(compressionGzip), clientFault(compressionBrotli)];

function isByteStream(body: UniversalServerRequest["body"]): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

async function* replay(head: Uint8Array, rest: AsyncIterable<Uint8Array> | null): AsyncIterable<Uint8Array> {
  yield head;
  if (rest) yield* rest;
}
