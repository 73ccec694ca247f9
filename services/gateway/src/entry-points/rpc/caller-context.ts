import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Caller } from "../../domain/caller.js";

/** Set by the auth interceptor on every VideoService call. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "authenticated caller" });

export function callerOf(ctx: HandlerContext): Caller {
  const caller = ctx.values.get(callerKey);
  if (!caller) throw new ConnectError("missing API key", Code.Unauthenticated);
  return caller;
}

/** Set by the node adapter on a call it refused before reading it (no key, rate limits, too large, too slow). */
export const refusalKey = createContextKey<ConnectError | undefined>(undefined, { description: "early refusal" });
