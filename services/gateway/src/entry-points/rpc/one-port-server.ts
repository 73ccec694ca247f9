import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { sessionAddresses, socketAddress } from "../http/client-address.js";
import { speaksHttp2 } from "./protocol-sniff.js";

export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** What one connection may cost; every field comes from the gateway's config (config.ts documents them). */
export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  sniffTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  idleTimeoutMs: number;
  http2MaxConcurrentStreams: number;
  maxHeaderBytes: number;
  http2WindowBytes: number;
  http2SessionMemoryMb: number;
}

export interface OnePortServer {
  readonly server: net.Server;
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  /** Open connections per client address (for tests and metrics). */
  connectionsOf(address: string): number;
  /** Stops accepting, lets in-flight requests finish, then closes idle connections. */
  close(): Promise<void>;
}

/**
 * Serves gRPC (HTTP/2 cleartext), gRPC-Web and Connect (HTTP/1.1 or h2c) on one
 * port: the first bytes of each connection tell HTTP/2's preface from HTTP/1.
 * Every connection is bounded: a cap per client address, a deadline for its
 * first bytes, for headers, for bodies (HTTP/1.1 here, HTTP/2 in the node
 * adapter), and for idling; HTTP/2 settings bound streams, headers and windows.
 */
export function createOnePortServer(handler: RequestHandler, limits: ConnectionLimits): OnePortServer {
  const h1 = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    handler,
  );
  // h1 never listens itself (the sniffer hands it sockets), but Node only
  // tracks its connections (and their timeouts) once it has: without this,
  // closeIdleConnections() is a no-op and headersTimeout never fires.
  h1.emit("listening");
  const h2 = http2.createServer(
    {
      maxSessionMemory: limits.http2SessionMemoryMb,
      maxHeaderListPairs: 128,
      settings: {
        maxConcurrentStreams: limits.http2MaxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderBytes,
        initialWindowSize: limits.http2WindowBytes,
      },
    },
    handler,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  // http2 makes the session synchronously inside emit("connection"), so this is the sniffed socket's address.
  let connecting = "unknown";
  h2.on("session", (s) => {
    sessionAddresses.set(s, connecting);
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    closeWhenIdle(s, limits);
  });

  const perAddress = new Map<string, number>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    const from = socketAddress(socket);
    const open = perAddress.get(from) ?? 0;
    if (open >= limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(from, open + 1);
    socket.once("close", () => {
      const n = (perAddress.get(from) ?? 1) - 1;
      if (n <= 0) perAddress.delete(from);
      else perAddress.set(from, n);
    });
    socket.on("error", () => socket.destroy());
    // Until it says which protocol it speaks, a socket has sniffTimeoutMs.
    socket.setTimeout(limits.sniffTimeoutMs, () => socket.destroy());
    socket.once("readable", function sniff() {
      const head = socket.read() as Buffer | null;
      if (head === null) {
        socket.once("readable", sniff);
        return;
      }
      socket.setTimeout(0);
      // Both servers take the socket itself with the sniffed bytes put back: http2 feeds what is
      // buffered to its session before it reads the native handle (Node >= 15), so its frames
      // never pass through a JavaScript stream wrapper (under the submit benchmark that wrapper's
      // socket writes and stream plumbing took about 7 % of the gateway's CPU).
      socket.unshift(head);
      if (speaksHttp2(head)) {
        connecting = from;
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
      }
    });
  });
  server.maxConnections = limits.maxConnections;

  return {
    server,
    http1: h1,
    http2: h2,
    connectionsOf: (address) => perAddress.get(address) ?? 0,
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

/**
 * An HTTP/2 connection must open a stream within headersTimeoutMs, and is
 * closed once it has had no open stream for idleTimeoutMs (socket activity
 * alone, such as PINGs, does not keep it). Open streams keep it however long
 * they last: a WatchTask may be quiet for minutes.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, limits: ConnectionLimits): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined = setTimeout(() => session.close(), limits.headersTimeoutMs);
  timer.unref();
  session.on("stream", (stream) => {
    open++;
    if (timer) clearTimeout(timer);
    timer = undefined;
    stream.once("close", () => {
      open--;
      if (open > 0 || session.destroyed) return;
      timer = setTimeout(() => {
        // close() lets the streams finish; a peer that never acknowledges the GOAWAY is cut off.
        session.close();
        setTimeout(() => session.destroy(), limits.idleTimeoutMs).unref();
      }, limits.idleTimeoutMs);
      timer.unref();
    });
  });
  session.once("close", () => {
    if (timer) clearTimeout(timer);
  });
}
