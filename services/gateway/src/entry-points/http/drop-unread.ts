import http2 from "node:http2";
import type { HttpRequest, HttpResponse } from "./node-http.js";

/** How long an HTTP/1.1 connection is read (and discarded) after its answer, before it is closed. */
const LINGER_MS = 2_000;

/**
 * Once `res` is sent, stops a client still sending a body nobody will read:
 * HTTP/2 gets RST_STREAM NO_ERROR (RFC 9113 §8.1), HTTP/1.1 the connection closed.
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
  // Closing at once, with the client's bytes still arriving, makes the kernel reset the
  // connection and drop our answer before the client reads it: send FIN, keep discarding, then close.
  res.once("finish", () => {
    if (req.complete) return;
    const socket = req.socket;
    req.resume();
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
