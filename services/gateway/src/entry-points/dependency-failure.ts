import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@t2v/common/logger";

export const UNAVAILABLE_MESSAGE = "the service is temporarily unavailable; please retry";

/**
 * Errors that are not ConnectErrors come from our dependencies (NATS down,
 * a KV timeout): they are worth a retry, so they answer UNAVAILABLE rather
 * than leaking as INTERNAL with the dependency's message. They are logged
 * here, once, with what the call was (`where`).
 */
export function asServiceError(err: unknown, log: Logger, where: Record<string, unknown>): ConnectError {
  if (err instanceof ConnectError) return err;
  log.error({ err, ...where }, "call failed on a dependency");
  return new ConnectError(UNAVAILABLE_MESSAGE, Code.Unavailable);
}
