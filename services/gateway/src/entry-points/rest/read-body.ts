import { Code, ConnectError } from "@connectrpc/connect";
import { type HttpRequest, header } from "../http/node-http.js";

/** Reads the body up to `max` bytes; a bigger one is refused without reading it all. */
export function readBody(req: HttpRequest, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(header(req, "content-length") ?? "0");
    if (declared > max) return reject(tooLarge(max));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(max));
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => reject(new ConnectError("request body could not be read", Code.InvalidArgument)));
  });
}

function tooLarge(max: number): ConnectError {
  return new ConnectError(`request body is over ${max} bytes`, Code.InvalidArgument);
}
