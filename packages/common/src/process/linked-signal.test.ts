import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { linkSignals } from "./linked-signal.js";

describe("linkSignals", () => {
  it("aborts with the reason of the first source that aborts, and detaches from the others", () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const linked = linkSignals([a.signal, b.signal]);
    assert.equal(linked.signal.aborted, false);
    b.abort(new Error("b went"));
    assert.equal(linked.signal.aborted, true);
    assert.equal((linked.signal.reason as Error).message, "b went");
    assert.equal(getEventListeners(a.signal, "abort").length, 0, "nothing left on the source still alive");
  });

  it("is aborted at once when a source already is", () => {
    const a = new AbortController();
    a.abort("gone");
    const linked = linkSignals([new AbortController().signal, a.signal]);
    assert.equal(linked.signal.aborted, true);
    assert.equal(linked.signal.reason, "gone");
  });

  it("leaves a long-lived source as it found it once disposed, however many links it had", () => {
    const shutdown = new AbortController();
    for (let i = 0; i < 10_000; i++) {
      const request = new AbortController();
      const linked = linkSignals([request.signal, shutdown.signal]);
      linked.signal.addEventListener("abort", () => undefined);
      linked.dispose();
    }
    assert.equal(getEventListeners(shutdown.signal, "abort").length, 0);
  });

  it("does not abort after dispose", () => {
    const a = new AbortController();
    const linked = linkSignals([a.signal]);
    linked.dispose();
    a.abort();
    assert.equal(linked.signal.aborted, false);
  });
});
