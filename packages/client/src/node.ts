import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import type { Task } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { bearerAuth } from "./bearer-auth.js";
import { createT2vClient, type T2vClient } from "./t2v-client.js";

export type NodeProtocol = "connect" | "grpc" | "grpc-web";

export interface NodeClientOptions {
  /** The gateway, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  apiKey: string;
  /** connect (default: binary over HTTP/1.1, the cheapest for the server), grpc (HTTP/2) or grpc-web. */
  protocol?: NodeProtocol;
  interceptors?: Interceptor[];
}

/** The SDK over connect-node. */
export function createNodeClient(o: NodeClientOptions): T2vClient {
  const interceptors = [bearerAuth(o.apiKey), ...(o.interceptors ?? [])];
  const base = { baseUrl: o.baseUrl, interceptors };
  const transport =
    o.protocol === "grpc"
      ? createGrpcTransport(base)
      : o.protocol === "grpc-web"
        ? createGrpcWebTransport({ ...base, httpVersion: "1.1" })
        : createConnectTransport({ ...base, httpVersion: "1.1", useBinaryFormat: true });
  return createT2vClient(transport);
}

/**
 * Downloads a completed task's MP4 to `file`, through `file.part` renamed at
 * the end, so an interrupted download never leaves a file that looks whole.
 */
export async function downloadToFile(client: T2vClient, task: Task, file: string, signal?: AbortSignal): Promise<void> {
  const body = await client.download(task, signal ? { signal } : {});
  const part = `${file}.part`;
  try {
    await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), createWriteStream(part));
    await rename(part, file);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

export * from "./index.js";
