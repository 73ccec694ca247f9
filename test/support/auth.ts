import type { Interceptor } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";

let lastKey = "";

/** startMesh records its key here so helpers can default to it. */
export function setDefaultTestApiKey(key: string): void {
  lastKey = key;
}

export function defaultTestApiKey(): string {
  return lastKey;
}

/** Connect interceptor sending `Authorization: Bearer <key>`. */
export function connectAuth(key: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
}

/** grpc-js client interceptor sending the key as `authorization` metadata. */
export function grpcAuth(key: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${key}`);
        next(metadata, listener);
      },
    });
}

/** Headers for fetch() against the REST API. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
