import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "@t2v/common/logger";
import type { Caller } from "../domain/caller.js";
import { GatewayErrorCode } from "../domain/error-codes.js";
import { errorInfo, retryLater } from "../domain/rpc-errors.js";
import { type CapVerdict, createStreamCaps, type StreamCapLimits } from "../domain/stream-caps.js";

/** What a stream's entry point knows about its connection: bytes queued for the client, and how to cut it. */
export interface StreamTransport {
  bufferedBytes(): number;
  destroy(): void;
}

/** One open stream, counted against its key's and tenant's caps until `close`. */
export interface StreamLease {
  /** Aborts when the stream must end: key revoked, reader stalled; the reason is the error to end with. */
  readonly signal: AbortSignal;
  /** The feed whose waiting state tells a reader that stopped reading. */
  follow(feed: { readonly pendingSinceMs: number | undefined }): void;
  close(): void;
}

export interface WatchStreams {
  /** RESOURCE_EXHAUSTED (RetryInfo, ErrorInfo STREAM_LIMIT) when the key or its tenant holds as many streams as allowed. */
  open(caller: Caller, transport?: StreamTransport): StreamLease;
  /** Streams open now. */
  count(): number;
}

export interface WatchStreamsOptions {
  limits: StreamCapLimits;
  /** RetryInfo of a refused stream. */
  retryAfterMs: number;
  /** A state that waits this long for a reader that is not reading ends its stream. */
  stallMs: number;
  /** A stream whose connection holds more unsent bytes than this ends. */
  maxBufferedBytes: number;
  /** Resolves true once the key is revoked (or deleted), false when `signal` aborts first. */
  revoked: (keyPrefix: string, signal: AbortSignal) => Promise<boolean>;
  log: Logger;
  now?: () => number;
  /** How often open streams are checked for stalled readers. */
  sweepMs?: number;
}

const REWATCH_MS = 1_000;

interface Open {
  caller: Caller;
  ctl: AbortController;
  transport: StreamTransport | undefined;
  feed: { readonly pendingSinceMs: number | undefined } | undefined;
}

/**
 * The open WatchTask and SSE streams of this gateway: caps per API key and
 * per tenant, one revocation watch per key that has streams (revoking a key
 * ends them within the watch's delivery time), and one sweep that drops
 * readers that stopped reading, whose connection then cannot grow.
 */
export function createWatchStreams(o: WatchStreamsOptions): WatchStreams {
  const now = o.now ?? Date.now;
  const caps = createStreamCaps(o.limits);
  const opens = new Set<Open>();
  const byKey = new Map<string, { opens: Set<Open>; ctl: AbortController }>();
  let sweep: NodeJS.Timeout | undefined;

  const end = (s: Open, err: ConnectError): void => {
    if (!s.ctl.signal.aborted) s.ctl.abort(err);
  };

  function watchKey(prefix: string, signal: AbortSignal): void {
    void (async () => {
      while (!signal.aborted) {
        try {
          if (await o.revoked(prefix, signal)) {
            const err = new ConnectError("the API key was revoked", Code.Unauthenticated, undefined, [
              errorInfo(GatewayErrorCode.keyRevoked),
            ]);
            for (const s of byKey.get(prefix)?.opens ?? []) end(s, err);
            return;
          }
        } catch (err) {
          if (!signal.aborted) o.log.warn({ err, key_prefix: prefix }, "API key watch failed; watching again");
        }
        if (!signal.aborted) await new Promise((r) => setTimeout(r, REWATCH_MS).unref());
      }
    })();
  }

  function check(): void {
    const t = now();
    for (const s of opens) {
      if (s.ctl.signal.aborted) continue; // ending already
      const buffered = s.transport?.bufferedBytes() ?? 0;
      const since = s.feed?.pendingSinceMs;
      if (buffered <= o.maxBufferedBytes && (since === undefined || t - since <= o.stallMs)) continue;
      o.log.info(
        { tenant_id: s.caller.tenantId, key_prefix: s.caller.keyPrefix, buffered },
        "stream reader too slow: dropped",
      );
      end(
        s,
        retryLater(
          "the stream's reader fell behind; reconnect",
          o.retryAfterMs,
          Code.ResourceExhausted,
          GatewayErrorCode.slowReader,
        ),
      );
      s.transport?.destroy();
    }
  }

  return {
    open(caller, transport) {
      const verdict = caps.tryOpen(caller.keyPrefix, caller.tenantId);
      if (verdict !== "ok")
        throw retryLater(
          refusal(verdict, o.limits),
          o.retryAfterMs,
          Code.ResourceExhausted,
          GatewayErrorCode.streamLimit,
        );
      const ctl = new AbortController();
      const s: Open = { caller, ctl, transport, feed: undefined };
      opens.add(s);
      let k = byKey.get(caller.keyPrefix);
      if (!k) {
        k = { opens: new Set(), ctl: new AbortController() };
        byKey.set(caller.keyPrefix, k);
        watchKey(caller.keyPrefix, k.ctl.signal);
      }
      k.opens.add(s);
      if (!sweep) {
        sweep = setInterval(check, o.sweepMs ?? 1_000);
        sweep.unref();
      }
      let closed = false;
      return {
        signal: ctl.signal,
        follow(feed) {
          s.feed = feed;
        },
        close() {
          if (closed) return;
          closed = true;
          caps.close(caller.keyPrefix, caller.tenantId);
          opens.delete(s);
          const key = byKey.get(caller.keyPrefix);
          key?.opens.delete(s);
          if (key && key.opens.size === 0) {
            key.ctl.abort();
            byKey.delete(caller.keyPrefix);
          }
          if (opens.size === 0 && sweep) {
            clearInterval(sweep);
            sweep = undefined;
          }
        },
      };
    },
    count: () => opens.size,
  };
}

/** Why a stream was refused, by the cap that was full. */
function refusal(verdict: Exclude<CapVerdict, "ok">, limits: StreamCapLimits): string {
  // The gateway's cap is not the caller's doing: another replica behind the same address may have room.
  if (verdict === "gateway")
    return `this gateway holds ${limits.perGateway} open task streams, as many as it serves; retry later`;
  const [who, limit] = verdict === "key" ? ["this API key", limits.perKey] : ["this tenant", limits.perTenant];
  return `${who} has ${limit} open task streams, the most allowed; close one or retry later`;
}
