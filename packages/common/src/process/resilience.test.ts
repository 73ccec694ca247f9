import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { pino } from "pino";
import { createEngineSupervisor, isEngineLost } from "./engine-supervisor.js";
import { createOutbox } from "./outbox.js";
import { retryWithBackoff } from "./retry.js";

const log = pino({ level: "silent" });
const fast = { log, firstDelayMs: 2, maxDelayMs: 10 };

type Item = { kind: "start" | "step" | "end"; n: number };

test("outbox: in order, retried while the sender fails, progress coalesced so the queue stays short", async () => {
  let down = true;
  const sent: Item[] = [];
  const box = createOutbox<Item>(
    async (item) => {
      if (down) throw new Error("NATS unreachable");
      sent.push(item);
    },
    { ...fast, what: "test", replaces: (last, next) => last.kind === "step" && next.kind === "step" },
  );
  box.push({ kind: "start", n: 0 });
  let most = 0;
  for (let n = 1; n <= 100; n++) {
    box.push({ kind: "step", n });
    most = Math.max(most, box.waiting);
  }
  box.push({ kind: "end", n: 0 });
  assert.ok(most <= 1, `one step waits at most, not ${most}`);
  let flushed = false;
  const flush = box.flush().then(() => {
    flushed = true;
  });
  await delay(50);
  assert.equal(flushed, false, "flush waits for the outage to end");
  down = false;
  await flush;
  assert.deepEqual(sent, [
    { kind: "start", n: 0 },
    { kind: "step", n: 100 },
    { kind: "end", n: 0 },
  ]);
});

test("outbox: every item is sent when the sender keeps up", async () => {
  const sent: number[] = [];
  const box = createOutbox<number>(async (n) => void sent.push(n), { ...fast, what: "test", replaces: () => true });
  for (let n = 0; n < 5; n++) {
    box.push(n);
    await delay(1);
  }
  await box.flush();
  assert.deepEqual(sent, [0, 1, 2, 3, 4]);
});

test("outbox: flush rejects once a send was given up, and nothing escapes as an unhandled rejection", async () => {
  const box = createOutbox<number>(() => Promise.reject(new Error("permanent")), {
    ...fast,
    what: "test",
    giveUpAfterMs: 20,
  });
  box.push(1);
  box.push(2);
  await assert.rejects(box.flush(), /permanent/);
});

test("retryWithBackoff: resolves once the call does; stops on abort", async () => {
  let tries = 0;
  const value = await retryWithBackoff(
    async () => {
      if (++tries < 4) throw new Error("not yet");
      return "ok";
    },
    { ...fast, what: "test" },
  );
  assert.deepEqual([value, tries], ["ok", 4]);
  const ctl = new AbortController();
  const never = retryWithBackoff(() => Promise.reject(new Error("down")), {
    ...fast,
    what: "test",
    signal: ctl.signal,
  });
  ctl.abort(new Error("shutdown"));
  await assert.rejects(never);
});

test("isEngineLost: a dead engine thread, not one failed call", () => {
  assert.ok(isEngineLost(new Error("engine worker exited (code 1)")));
  assert.ok(isEngineLost(new Error("engine worker crashed: out of memory")));
  assert.ok(isEngineLost(Object.assign(new Error("x"), { name: "EngineLostError" })));
  assert.ok(!isEngineLost(new Error("Gather: indices out of range")));
  assert.ok(!isEngineLost("engine worker exited"));
});

test("engine supervisor: one restart; a second loss soon after is fatal without another try", async () => {
  const a = { id: "a" };
  const b = { id: "b" };
  let restarts = 0;
  let fatal: unknown;
  const s = createEngineSupervisor({
    initial: a,
    restart: async () => {
      restarts++;
      return b;
    },
    log,
    onFatal: (err) => {
      fatal = err;
    },
  });
  assert.equal(await s.ready(), true);
  s.lost(a, new Error("engine worker exited (code 1)"));
  s.lost(a, new Error("the same death, reported twice"));
  assert.equal(await s.ready(), true);
  assert.equal(s.current(), b);
  assert.equal(restarts, 1);
  s.lost(a, new Error("late report about the old engine"));
  assert.equal(fatal, undefined);
  s.lost(b, new Error("engine worker exited (code 1)"));
  assert.equal(await s.ready(), false);
  assert.equal(restarts, 1);
  assert.match(String(fatal), /exited/);
});

test("engine supervisor: a failed restart is fatal", async () => {
  let fatal: unknown;
  const s = createEngineSupervisor({
    initial: {},
    restart: () => Promise.reject(new Error("no GPU")),
    log,
    onFatal: (err) => {
      fatal = err;
    },
  });
  const engine = s.current();
  s.lost(engine, new Error("engine worker crashed: x"));
  assert.equal(await s.ready(), false);
  assert.match(String(fatal), /no GPU/);
});
