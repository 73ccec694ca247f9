import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { createMemoryBus } from "@t2v/common/channels";
import { ErrorInfoSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { createLogger } from "@t2v/common/logger";
import type { Caller } from "../domain/caller.js";
import { createWatchStreams } from "./watch-streams.js";

const log = createLogger("test", "silent");

/** The signal's reason once it aborts; the deadline (a ref'd timer) also keeps the test alive, as the sweep's is not. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error("not aborted within 20 s")), 20_000);
    const done = (): void => {
      clearTimeout(deadline);
      resolve(signal.reason);
    };
    if (signal.aborted) done();
    signal.addEventListener("abort", done, { once: true });
  });
}

describe("createWatchStreams", async () => {
  const keys = await openApiKeyStore(createMemoryBus());
  const made = await keys.create({ tenantId: "acme", tier: "standard" });
  const other = await keys.create({ tenantId: "acme", tier: "standard" });
  const caller = (prefix: string): Caller => ({ tenantId: "acme", tier: "standard", keyPrefix: prefix });
  const options = {
    limits: { perKey: 2, perTenant: 3, perGateway: 100 },
    retryAfterMs: 4_000,
    stallMs: 200,
    maxBufferedBytes: 1000,
    revoked: (prefix: string, signal: AbortSignal) => keys.revoked(prefix, signal),
    log,
    sweepMs: 20,
  };

  it("refuses a stream over the key's or the tenant's cap with RESOURCE_EXHAUSTED, RetryInfo and ErrorInfo", () => {
    const streams = createWatchStreams(options);
    const a = streams.open(caller(made.record.prefix));
    const b = streams.open(caller(made.record.prefix));
    const over = (prefix: string): ConnectError => {
      try {
        streams.open(caller(prefix));
      } catch (err) {
        return ConnectError.from(err);
      }
      return assert.fail("opened over the cap");
    };
    const byKey = over(made.record.prefix);
    assert.equal(byKey.code, Code.ResourceExhausted);
    assert.equal(Number(byKey.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds), 4);
    assert.equal(byKey.findDetails(ErrorInfoSchema)[0]?.reason, "STREAM_LIMIT");
    const c = streams.open(caller(other.record.prefix));
    assert.match(over(other.record.prefix).message, /tenant/);
    for (const l of [a, b, c]) l.close();
    assert.equal(streams.count(), 0);
    streams.open(caller(made.record.prefix)).close();
  });

  it("refuses a stream over the gateway's cap, whoever asks, and takes one again once a place frees", () => {
    const streams = createWatchStreams({ ...options, limits: { perKey: 10, perTenant: 10, perGateway: 2 } });
    const tenant = (t: string): Caller => ({ tenantId: t, tier: "standard", keyPrefix: `${t}-key` });
    const a = streams.open(tenant("a"));
    const b = streams.open(tenant("b"));
    let refused: ConnectError | undefined;
    try {
      streams.open(tenant("c"));
    } catch (err) {
      refused = ConnectError.from(err);
    }
    assert.equal(refused?.code, Code.ResourceExhausted);
    assert.match(refused?.message ?? "", /this gateway holds 2 open task streams/);
    assert.equal(Number(refused?.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds), 4);
    assert.equal(refused?.findDetails(ErrorInfoSchema)[0]?.reason, "STREAM_LIMIT");
    a.close();
    const c = streams.open(tenant("c"));
    assert.equal(streams.count(), 2);
    for (const l of [b, c]) l.close();
  });

  it("ends every open stream of a key when it is revoked, with UNAUTHENTICATED, and leaves other keys' alone", async () => {
    const streams = createWatchStreams(options);
    const mine = [streams.open(caller(made.record.prefix)), streams.open(caller(made.record.prefix))];
    const theirs = streams.open(caller(other.record.prefix));
    await delay(20);
    await keys.revoke(made.record.prefix);
    for (const l of mine) {
      const reason = ConnectError.from(await aborted(l.signal));
      assert.equal(reason.code, Code.Unauthenticated);
      l.close();
    }
    assert.equal(theirs.signal.aborted, false);
    theirs.close();
  });

  it("drops a stream whose reader leaves a state waiting too long, or whose connection buffers too much", async () => {
    const streams = createWatchStreams(options);
    const destroyed: string[] = [];
    const stalled = streams.open(caller(other.record.prefix), {
      bufferedBytes: () => 0,
      destroy: () => destroyed.push("stalled"),
    });
    stalled.follow({ pendingSinceMs: Date.now() });
    let buffered = 0;
    const full = streams.open(caller(other.record.prefix), {
      bufferedBytes: () => buffered,
      destroy: () => destroyed.push("full"),
    });
    buffered = 5000;
    for (const l of [stalled, full]) {
      const reason = ConnectError.from(await aborted(l.signal));
      assert.equal(reason.code, Code.ResourceExhausted);
      assert.equal(reason.findDetails(ErrorInfoSchema)[0]?.reason, "SLOW_READER");
      l.close();
    }
    assert.deepEqual(destroyed.sort(), ["full", "stalled"]);
  });
});
