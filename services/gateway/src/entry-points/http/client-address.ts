import type { Socket } from "node:net";
import type { HttpRequest } from "./node-http.js";

/**
 * Client addresses of HTTP/2 sessions, set by the one-port server: http2 wraps
 * the sniffer's replaying stream in a socket of its own that has no address.
 */
export const sessionAddresses = new WeakMap<object, string>();

/** The peer address of a socket, IPv4-mapped IPv6 written as IPv4, so one client counts once. */
export function socketAddress(socket: Pick<Socket, "remoteAddress"> | null | undefined): string {
  const a = socket?.remoteAddress ?? "";
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a || "unknown";
}

/** The address of the client that sent `req` (HTTP/1.1 or HTTP/2). */
export function clientAddress(req: HttpRequest): string {
  if ("stream" in req) {
    const session = req.stream.session;
    return (session && sessionAddresses.get(session)) ?? "unknown";
  }
  return socketAddress(req.socket);
}
