import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InFlightLimitError, inFlightLimit } from "./in-flight-limit.js";

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve = (): void => {};
  let reject = (_err: Error): void => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("in-flight limit", () => {
  it("runs at most max calls at once, the rest in the order asked, each once a slot frees", async () => {
    const limit = inFlightLimit(2, { maxWaiting: 10, maxWaitMs: 60_000 });
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const calls = gates.map((g, i) =>
      limit(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await g.promise;
        running--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1]);
    gates[1]?.resolve();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2]);
    gates[0]?.reject(new Error("a failed call frees its slot too"));
    gates[2]?.resolve();
    gates[3]?.resolve();
    const results = await Promise.allSettled(calls);
    assert.deepEqual(started, [0, 1, 2, 3]);
    assert.equal(most, 2);
    assert.equal(results[0]?.status, "rejected");
    assert.deepEqual(
      results.slice(1).map((r) => (r.status === "fulfilled" ? r.value : null)),
      [1, 2, 3],
    );
    // Every slot came back: two more run at once.
    const again = [deferred(), deferred()];
    const ran: number[] = [];
    const more = again.map((g, i) =>
      limit(async () => {
        ran.push(i);
        await g.promise;
      }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ran, [0, 1]);
    for (const g of again) g.resolve();
    await Promise.all(more);
  });

  it("refuses a call past maxWaiting at once, and one that waited maxWaitMs; their turns pass to the next", async () => {
    const limit = inFlightLimit(1, { maxWaiting: 2, maxWaitMs: 500 });
    const gate = deferred();
    const first = limit(() => gate.promise);
    const late = limit(async () => "late");
    // "next" waits 400 ms less than "late": it is still waiting when the slot frees.
    await new Promise((r) => setTimeout(r, 400));
    const next = limit(async () => "next");
    await assert.rejects(
      limit(async () => "third"),
      (err: unknown) => err instanceof InFlightLimitError && /2 calls already wait/.test(err.message),
    );
    await assert.rejects(
      late,
      (err: unknown) => err instanceof InFlightLimitError && /waited 500 ms/.test(err.message),
    );
    gate.resolve();
    await first;
    assert.equal(await next, "next", "the slot skips the call that gave up and goes to the next");
    assert.equal(await limit(async () => "free"), "free");
  });

  it("refuses a limit that is not a positive integer", () => {
    const opts = { maxWaiting: 1, maxWaitMs: 1 };
    assert.throws(() => inFlightLimit(0, opts), RangeError);
    assert.throws(() => inFlightLimit(1.5, opts), RangeError);
  });
});
