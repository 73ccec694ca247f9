import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { bearerAuth } from "./bearer-auth.js";
import { createT2vClient, type T2vClient } from "./t2v-client.js";

export type BrowserProtocol = "connect" | "grpc-web";

export interface BrowserClientOptions {
  /** The gateway; the page's own origin when it serves the page. */
  baseUrl: string;
  /** A function lets a page change the key without rebuilding the client. */
  apiKey: string | (() => string);
  /** connect (default) or grpc-web; both stream WatchTask over fetch. */
  protocol?: BrowserProtocol;
  interceptors?: Interceptor[];
}

/** The SDK over connect-web (fetch). */
export function createBrowserClient(o: BrowserClientOptions): T2vClient {
  const interceptors = [bearerAuth(o.apiKey), ...(o.interceptors ?? [])];
  const transport =
    o.protocol === "grpc-web"
      ? createGrpcWebTransport({ baseUrl: o.baseUrl, interceptors })
      : createConnectTransport({ baseUrl: o.baseUrl, interceptors, useBinaryFormat: true });
  return createT2vClient(transport);
}

export * from "./index.js";
