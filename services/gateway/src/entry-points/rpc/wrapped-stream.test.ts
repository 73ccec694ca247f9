import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { wrapStream } from "./wrapped-stream.js";

async function* numbers(n: number, log: string[], failAt?: number) {
  try {
    for (let i = 1; i <= n; i++) {
      if (i === failAt) throw new Error(`inner failed at ${i}`);
      yield i;
    }
  } finally {
    log.push("inner closed");
  }
}

describe("wrapStream", () => {
  it("hands on each message mapped, each pull inside `around`, and ends once when the inner stream is done", async () => {
    const log: string[] = [];
    const ended: unknown[] = [];
    let pulls = 0;
    const out: string[] = [];
    const wrapped = wrapStream(numbers(3, log), {
      around: (pull) => {
        pulls++;
        return pull();
      },
      map: (n) => `#${n}`,
      ended: (err) => ended.push(err ?? "done"),
    });
    for await (const v of wrapped) out.push(v);
    assert.deepEqual(out, ["#1", "#2", "#3"]);
    assert.equal(pulls, 4, "three messages and the pull that found the end");
    assert.deepEqual(ended, ["done"]);
    assert.deepEqual(log, ["inner closed"]);
    assert.deepEqual(await wrapped.next(), { done: true, value: undefined }, "nothing is pulled after the end");
    assert.equal(pulls, 4);
  });

  it("fails with the error `failed` makes of the inner one, and ends with the inner error", async () => {
    const ended: unknown[] = [];
    const wrapped = wrapStream(numbers(5, [], 2), {
      failed: (err) => new Error(`outer: ${(err as Error).message}`),
      ended: (err) => ended.push((err as Error).message),
    });
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const v of wrapped) seen.push(v);
      })(),
      /outer: inner failed at 2/,
    );
    assert.deepEqual(seen, [1]);
    assert.deepEqual(ended, ["inner failed at 2"]);
  });

  it("closes the inner stream when its reader stops early, and ends once", async () => {
    const log: string[] = [];
    let ends = 0;
    const wrapped = wrapStream(numbers(100, log), { ended: () => ends++ });
    for await (const v of wrapped) if (v === 2) break;
    assert.deepEqual(log, ["inner closed"], "the inner generator's finally ran");
    assert.equal(ends, 1);
    await wrapped.return?.();
    assert.equal(ends, 1);
  });

  it("a pull that throws synchronously fails the stream instead of escaping", async () => {
    const broken: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw new Error("sync");
        },
      }),
    };
    let ended = 0;
    await assert.rejects(wrapStream(broken, { ended: () => ended++ }).next(), /sync/);
    assert.equal(ended, 1);
  });
});
