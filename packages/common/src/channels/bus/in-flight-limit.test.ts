import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inFlightLimit } from "./in-flight-limit.js";

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
    const limit = inFlightLimit(2);
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

  it("refuses a limit that is not a positive integer", () => {
    assert.throws(() => inFlightLimit(0), RangeError);
    assert.throws(() => inFlightLimit(1.5), RangeError);
  });
});
