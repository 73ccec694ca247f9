import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type Protocol = "connect" | "grpc";

/** A VideoService client over Connect (HTTP/1.1 JSON-free binary) or gRPC (HTTP/2). */
export function videoClient(baseUrl: string, protocol: Protocol): Client<typeof VideoService> {
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ baseUrl })
      : createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true });
  return createClient(VideoService, transport);
}
