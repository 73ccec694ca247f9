import type { IncomingMessage } from "node:http";
import { constants, type Http2ServerRequest } from "node:http2";
import { createContextKey, createContextValues } from "@connectrpc/connect";
import type { StreamTransport } from "../../use-cases/watch-streams.js";

/** The connection under a call, for server streams that must watch what is queued for the client. */
export const streamTransportKey = createContextKey<StreamTransport | undefined>(undefined, {
  description: "the call's connection",
});

/**
 * The transport of a Node request: on HTTP/2 its own stream (cancelled alone,
 * the session and its other calls go on), on HTTP/1.1 its socket.
 */
export function nodeStreamTransport(req: IncomingMessage | Http2ServerRequest): StreamTransport {
  if ("stream" in req && req.stream) {
    const stream = req.stream;
    return {
      bufferedBytes: () => stream.writableLength,
      destroy: () => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      },
    };
  }
  const socket = req.socket;
  return { bufferedBytes: () => socket.writableLength, destroy: () => socket.destroy() };
}

/** `contextValues` for the Connect adapter: every call knows its transport. */
export function transportContextValues(req: IncomingMessage | Http2ServerRequest) {
  return createContextValues().set(streamTransportKey, nodeStreamTransport(req));
}
