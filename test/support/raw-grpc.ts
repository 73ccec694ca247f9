import http2 from "node:http2";

export interface RawGrpcResult {
  httpStatus: number;
  grpcStatus: number | null;
}

/** One gRPC call with a hand-made body (possibly broken framing), for fuzzing. */
export function rawGrpcCall(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMs = 3_000,
): Promise<RawGrpcResult> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...headers,
    });
    let httpStatus = 0;
    let grpcStatus: number | null = null;
    const take = (h: http2.IncomingHttpHeaders): void => {
      const s = h["grpc-status"];
      if (typeof s === "string") grpcStatus = Number(s);
    };
    req.on("response", (h) => {
      httpStatus = Number(h[":status"] ?? 0);
      take(h);
    });
    req.on("trailers", take);
    req.on("data", () => undefined);
    // A stream that stays open (a valid WatchTask) is fine: stop listening.
    const timer = setTimeout(() => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      resolve({ httpStatus, grpcStatus: grpcStatus ?? 0 });
    }, timeoutMs);
    req.on("end", () => {
      clearTimeout(timer);
      resolve({ httpStatus, grpcStatus });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(Buffer.from(body));
  });
}

/** A gRPC length-prefixed message frame. */
export function grpcFrame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, Buffer.from(message)]);
}
