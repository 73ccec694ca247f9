import { commonFields, int, str } from "@t2v/common";

export const gatewayConfig = {
  ...commonFields,
  port: int("PORT", "port for gRPC, gRPC-Web, Connect and HTTP downloads", 8080, 1, 65535),
  host: str("HOST", "address to listen on", "0.0.0.0"),
  publicBaseUrl: str("PUBLIC_BASE_URL", "base of result_url links (default http://127.0.0.1:PORT)", ""),
  videoTtlHours: int("VIDEO_TTL_HOURS", "how long finished videos are kept", 168, 1, 24 * 365),
};
