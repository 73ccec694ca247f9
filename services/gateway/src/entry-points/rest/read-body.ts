import { type HttpRequest, header } from "../http/node-http.js";
import { bodyTimedOut, requestTooLarge } from "../rpc/request-body-guard.js";

/**
 * Reads the body up to `max` bytes within `timeoutMs`: one declared bigger is
 * refused unread, one that grows bigger is refused at the byte that passes the
 * limit (REQUEST_TOO_LARGE, 413), one that stalls at the deadline
 * (REQUEST_TIMEOUT); an aborted request settles too, so nothing waits on it.
 */
export function readBody(req: HttpRequest, max: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(header(req, "content-length") ?? "0");
    if (declared > max) return reject(requestTooLarge(max));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(bodyTimedOut(timeoutMs)), timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      req.removeAllListeners("data");
      req.resume();
      reject(err);
    }
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) fail(requestTooLarge(max));
      else chunks.push(c);
    });
    req.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("aborted", () => fail(new Error("request aborted")));
    req.on("error", () => fail(new Error("request body could not be read")));
  });
}
