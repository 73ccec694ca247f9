import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Protocol = "connect" | "grpc";

/** A VideoService client over Connect (HTTP/1.1 JSON-free binary) or gRPC (HTTP/2), sending the API key. */
export function videoClient(baseUrl: string, protocol: Protocol, apiKey = ""): Client<typeof VideoService> {
  const auth: Interceptor = (next) => (req) => {
    if (apiKey !== "") req.header.set("authorization", `Bearer ${apiKey}`);
    return next(req);
  };
  const interceptors = [auth];
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl, interceptors })
      : createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors });
  return createClient(VideoService, transport);
}
