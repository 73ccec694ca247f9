import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface OnePortServer {
  readonly server: net.Server;
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  /** Stops accepting, lets in-flight requests finish, then closes idle connections. */
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Serves gRPC (HTTP/2 cleartext), gRPC-Web and Connect (HTTP/1.1 or h2c) on one
 * port: the first bytes of each connection tell HTTP/2's preface from HTTP/1.
 */
export function createOnePortServer(handler: RequestHandler): OnePortServer {
  const h1 = http.createServer(handler);
  h1.keepAliveTimeout = 5_000;
  // h1 never listens itself (the sniffer hands it sockets), but Node only
  // tracks its connections once it has: without this, closeIdleConnections()
  // is a no-op and a keep-alive client holds the shutdown up.
  h1.emit("listening");
  const h2 = http2.createServer({}, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });

  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.once("readable", function sniff() {
      const head = socket.read() as Buffer | null;
      if (head === null) {
        socket.once("readable", sniff);
        return;
      }
      const n = Math.min(head.length, H2_PREFACE.length);
      if (head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
        // http2 reads the native handle directly, so replayed bytes must come
        // through a wrapping stream rather than socket.unshift().
        h2.emit("connection", replaying(socket, head));
      } else {
        socket.unshift(head);
        h1.emit("connection", socket);
      }
    });
    socket.on("error", () => socket.destroy());
  });

  return {
    server,
    http1: h1,
    http2: h2,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.close();
        h1.closeIdleConnections();
        setTimeout(() => {
          h1.closeAllConnections();
          for (const s of sessions) s.destroy();
        }, 5_000).unref();
      }),
  };
}

function replaying(socket: net.Socket, head: Buffer): Duplex {
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(head);
  socket.on("data", (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on("end", () => d.push(null));
  socket.on("close", () => d.destroy());
  socket.on("error", (e) => d.destroy(e));
  Object.defineProperty(d, "remoteAddress", { get: () => socket.remoteAddress });
  Object.defineProperty(d, "remotePort", { get: () => socket.remotePort });
  return d;
}
