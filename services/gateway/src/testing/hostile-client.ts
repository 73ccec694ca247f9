import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

/** What a raw HTTP/2 call got back: the HTTP status, grpc-status (headers or trailers), and how the stream ended. */
export interface H2Outcome {
  httpStatus: number;
  grpcStatus: number | null;
  /** The stream was reset by the server (its RST_STREAM code), or null when it ended normally. */
  rstCode: number | null;
  body: Buffer;
}

/**
 * One HTTP/2 request that sends `chunks` and ends the body only when `end` is
 * true: a half-sent body stays open until the server answers or resets it.
 * Settles at the first of: the stream closing, `deadlineMs` (rejects).
 */
export function h2Call(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  chunks: Uint8Array[],
  end: boolean,
  deadlineMs = 20_000,
): Promise<H2Outcome> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ...headers }, { endStream: false });
    let httpStatus = 0;
    let grpcStatus: number | null = null;
    const body: Buffer[] = [];
    const take = (h: http2.IncomingHttpHeaders): void => {
      const s = h["grpc-status"];
      if (typeof s === "string") grpcStatus = Number(s);
    };
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"] ?? 0);
      take(h);
    });
    stream.on("trailers", take);
    stream.on("data", (c: Buffer) => body.push(c));
    stream.on("error", () => undefined);
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`no answer within ${deadlineMs} ms (status ${httpStatus}, grpc-status ${grpcStatus})`));
    }, deadlineMs);
    stream.on("close", () => {
      clearTimeout(timer);
      const rst = stream.rstCode;
      resolve({
        httpStatus,
        grpcStatus,
        rstCode: rst === undefined || rst === http2.constants.NGHTTP2_NO_ERROR ? null : rst,
        body: Buffer.concat(body),
      });
    });
    for (const c of chunks) stream.write(c);
    if (end) stream.end();
  });
}

/** A raw HTTP/1.1 request whose body is sent as given (possibly less than its content-length), and its answer. */
export function h1Call(
  port: number,
  options: { method?: string; path: string; headers: http.OutgoingHttpHeaders },
  chunks: Uint8Array[],
  end: boolean,
  deadlineMs = 20_000,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: options.method ?? "POST", ...options, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${deadlineMs} ms`));
    }, deadlineMs);
    req.on("response", (res) => {
      const body: Buffer[] = [];
      res.on("data", (c: Buffer) => body.push(c));
      res.on("error", () => undefined);
      res.on("close", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(body).toString("utf8") });
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.flushHeaders();
    for (const c of chunks) req.write(c);
    if (end) req.end();
  });
}

/** Resolves with the milliseconds until the server closed `socket`; rejects past `deadlineMs`. */
export function closedWithin(socket: net.Socket, deadlineMs: number): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`socket still open after ${deadlineMs} ms`)), deadlineMs);
    socket.on("error", () => undefined);
    // A paused socket never reads, so it would not notice the close.
    socket.resume();
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

/** A TCP connection to the gateway, once connected. */
export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

/** A gRPC length-prefixed frame (flag 1: compressed). */
export function frame(message: Uint8Array, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, Buffer.from(message)]);
}

/** Waits until `check` is true, polling; rejects past `deadlineMs` with `what`. */
export async function until(check: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
