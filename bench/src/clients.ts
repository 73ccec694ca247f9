import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "@t2v/common/gen/grpc/health/v1/health_pb";
import { VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";

function auth(key: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
}

/** gRPC over HTTP/2; each call of this function opens its own session. */
export function videoClient(baseUrl: string, key: string): Client<typeof VideoService> {
  return createClient(VideoService, createGrpcTransport({ baseUrl, interceptors: [auth(key)] }));
}

export function healthClient(baseUrl: string): Client<typeof Health> {
  return createClient(Health, createGrpcTransport({ baseUrl }));
}
