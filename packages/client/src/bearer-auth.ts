import type { Interceptor } from "@connectrpc/connect";

/** Sends `Authorization: Bearer <key>` on every call; an empty key sends nothing (the server answers UNAUTHENTICATED). */
export function bearerAuth(apiKey: string | (() => string)): Interceptor {
  return (next) => (req) => {
    const key = typeof apiKey === "function" ? apiKey() : apiKey;
    if (key !== "") req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
}
