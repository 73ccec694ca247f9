import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectAuth } from "./auth.js";

/** Connect (HTTP/1.1 JSON) client sending `key` ("" sends none). */
export function connectClient(baseUrl: string, key: string): Client<typeof VideoService> {
  return createClient(
    VideoService,
    createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: key === "" ? [] : [connectAuth(key)] }),
  );
}

/** Connect's gRPC (HTTP/2) client sending `key` ("" sends none). */
export function grpcClient(baseUrl: string, key: string): Client<typeof VideoService> {
  return createClient(
    VideoService,
    createGrpcTransport({ baseUrl, interceptors: key === "" ? [] : [connectAuth(key)] }),
  );
}

/** gRPC-Web (HTTP/1.1, binary) client sending `key` ("" sends none). */
export function grpcWebClient(baseUrl: string, key: string): Client<typeof VideoService> {
  return createClient(
    VideoService,
    createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors: key === "" ? [] : [connectAuth(key)] }),
  );
}

/** The code of a rejected call, or "OK". */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    return Code[ConnectError.from(err).code] ?? "?";
  }
}
