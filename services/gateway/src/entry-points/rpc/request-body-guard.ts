import { Code, ConnectError } from "@connectrpc/connect";
import { GatewayErrorCode } from "../../domain/error-codes.js";
import { errorInfo } from "../../domain/rpc-errors.js";

/** Room on the wire beyond one message: the 5-byte envelope, a gzip header, Connect's end-of-stream frame. */
export const ENVELOPE_ALLOWANCE = 1024;

/**
 * The largest message of a service that needs no API key (health, reflection):
 * their requests are a service name or a symbol, and anyone may send them, so
 * each costs this, not REQUEST_MAX_BYTES (docs/security.md has the arithmetic).
 */
export const KEYLESS_MAX_BYTES = 4096;

export interface BodyLimits {
  /**
   * Bytes of the one message a body may carry (REQUEST_MAX_BYTES); the wire allows ENVELOPE_ALLOWANCE more.
   * null: no total (streaming requests, bounded per message by connect-es).
   */
  maxBytes: number | null;
  /** Milliseconds the body may take to end; null: no deadline. */
  timeoutMs: number | null;
}

/** RESOURCE_EXHAUSTED with ErrorInfo REQUEST_TOO_LARGE: no RetryInfo, as the same request would fail again. */
export function requestTooLarge(max: number): ConnectError {
  return new ConnectError(`request is over the limit of ${max} bytes`, Code.ResourceExhausted, undefined, [
    errorInfo(GatewayErrorCode.requestTooLarge),
  ]);
}

export function bodyTimedOut(ms: number): ConnectError {
  return new ConnectError(`request body not received within ${ms} ms`, Code.DeadlineExceeded, undefined, [
    errorInfo(GatewayErrorCode.requestTimeout),
  ]);
}

/**
 * The body as a protocol handler reads it, with a running byte count and a
 * deadline: past either it throws, so nothing reads (or buffers) more than
 * the limit and a client that stops sending mid-body is answered. `onRefused`
 * lets the caller drop the rest of the request once its answer is out.
 */
export function guardBody(
  body: AsyncIterable<Uint8Array>,
  limits: BodyLimits,
  onRefused: () => void,
): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      let timer: NodeJS.Timeout | undefined;
      const expired =
        limits.timeoutMs === null
          ? null
          : new Promise<never>((_, reject) => {
              const ms = limits.timeoutMs ?? 0;
              timer = setTimeout(() => reject(bodyTimedOut(ms)), ms);
            });
      expired?.catch(() => undefined);
      let size = 0;
      const wireMax = limits.maxBytes === null ? Number.POSITIVE_INFINITY : limits.maxBytes + ENVELOPE_ALLOWANCE;
      try {
        for (;;) {
          const r = await (expired ? Promise.race([it.next(), expired]) : it.next());
          if (r.done) return;
          size += r.value.byteLength;
          if (size > wireMax) throw requestTooLarge(limits.maxBytes ?? 0);
          yield r.value;
        }
      } catch (err) {
        onRefused();
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
