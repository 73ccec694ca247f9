import http2 from "node:http2";
import type { HttpRequest, HttpResponse } from "./node-http.js";

/** How long an HTTP/1.1 connection is read (and discarded) after its answer, before it is closed. */
const LINGER_MS = 2_000;
/** The most of a refused HTTP/1.1 body read (and discarded) to keep its connection open. */
const DISCARD_MAX_BYTES = 64 * 1024;

/**
 * Once `res` is sent, stops a client still sending a body nobody will read:
 * HTTP/2 gets RST_STREAM NO_ERROR (RFC 9113 §8.1); HTTP/1.1 the connection closed, unless the
 * rest of the body is short and arrives at once.
 */
export function dropUnreadAfter(req: HttpRequest, res: HttpResponse): void {
  if ("stream" in req) {
    // The compat response's "finish" waits for the whole stream, reads included; its trailers go out
    // on "wantTrailers" (always asked for), so the reset follows them.
    const s = req.stream;
    s.once("wantTrailers", () =>
      setImmediate(() => {
        if (!s.destroyed && !s.closed) s.close(http2.constants.NGHTTP2_NO_ERROR);
      }),
    );
    return;
  }
  res.once("finish", () => {
    if (req.complete) return;
    const socket = req.socket;
    // Closing at once, with the client's bytes still arriving, makes the kernel reset the
    // connection and drop our answer before the client reads it: send FIN, keep discarding, then close.
    const close = () => {
      clearTimeout(waiting);
      socket.removeListener("data", count);
      socket.end();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    };
    // A short rest (the client had sent it all; it was not parsed yet) is discarded and the
    // connection kept: the answer said keep-alive, and closing it would race the client's next
    // request on the pooled socket ("other side closed"). A long or slow one is not waited for.
    // Counted on the socket: Node drops the body of a request left unread (no "data" events).
    let discarded = 0;
    const count = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DISCARD_MAX_BYTES) close();
    };
    const waiting = setTimeout(close, LINGER_MS);
    waiting.unref();
    req.once("end", () => {
      clearTimeout(waiting);
      socket.removeListener("data", count);
    });
    if (Number(req.headers["content-length"] ?? "0") > DISCARD_MAX_BYTES) close();
    else socket.on("data", count);
    req.resume();
  });
}
