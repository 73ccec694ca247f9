import assert from "node:assert/strict";
import { test } from "node:test";
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { createLogger } from "@t2v/common";
import { type RunHooks, workLoop } from "./work-loop.js";

interface FakeMsg {
  id: string;
  events: string[];
}

/** A consumer that hands out queued messages and otherwise answers null after a short wait. */
function fakeConsumer(ids: string[], events: string[]): Consumer {
  const queue = ids.map((id) => ({
    id,
    subject: "t2v.job.generate.standard",
    working: () => events.push(`working ${id}`),
    nak: () => events.push(`nak ${id}`),
    ack: () => events.push(`ack ${id}`),
  }));
  return {
    next: async (): Promise<unknown> => queue.shift() ?? (await sleep(20).then(() => null)),
  } as unknown as Consumer;
}

const idOf = (msg: JsMsg): string => (msg as unknown as FakeMsg).id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger("inference-test", "silent");

test("pipelined: the next job is prepared during the running one and starts when the model frees", async () => {
  const events: string[] = [];
  const stop = new AbortController();
  const handle = async (msg: JsMsg, hooks: RunHooks): Promise<void> => {
    const id = idOf(msg);
    events.push(`start ${id}`);
    await sleep(60); // denoising
    events.push(`free ${id}`);
    hooks.onModelFree();
    await sleep(60); // latents upload, DecodeJob
    events.push(`done ${id}`);
  };
  const loop = workLoop(fakeConsumer(["a", "b"], events), handle, {
    signal: stop.signal,
    log,
    pipeline: true,
    prepare: async (msg) => void events.push(`prepare ${idOf(msg)}`),
  });
  await sleep(300);
  stop.abort();
  await loop;
  const at = (e: string): number => events.indexOf(e);
  assert.ok(at("prepare b") > at("start a") && at("prepare b") < at("free a"), events.join(", "));
  assert.ok(at("start b") > at("free a") && at("start b") < at("done a"), "b overlaps a's upload only");
  assert.ok(at("start b") > at("free a"), "one task denoising at a time");
});

test("off: the next job is pulled only after the previous one is done", async () => {
  const events: string[] = [];
  const stop = new AbortController();
  const loop = workLoop(
    fakeConsumer(["a", "b"], events),
    async (msg, hooks) => {
      events.push(`start ${idOf(msg)}`);
      await sleep(30);
      hooks.onModelFree();
      await sleep(30);
      events.push(`done ${idOf(msg)}`);
    },
    { signal: stop.signal, log, pipeline: false, prepare: async () => void events.push("prepare") },
  );
  await sleep(200);
  stop.abort();
  await loop;
  assert.deepEqual(events, ["start a", "done a", "start b", "done b"]);
});

test("abort naks the held job at once and waits for the running one", async () => {
  const events: string[] = [];
  const stop = new AbortController();
  let release = (): void => undefined;
  const loop = workLoop(
    fakeConsumer(["a", "b"], events),
    async (msg) => {
      events.push(`start ${idOf(msg)}`);
      await new Promise<void>((r) => {
        release = r;
      });
      events.push(`handed back ${idOf(msg)}`);
    },
    { signal: stop.signal, log, pipeline: true, prepare: async (msg) => void events.push(`prepare ${idOf(msg)}`) },
  );
  await sleep(50);
  stop.abort();
  assert.ok(events.includes("nak b"), `held job naked synchronously on abort: ${events.join(", ")}`);
  let ended = false;
  void loop.then(() => {
    ended = true;
  });
  await sleep(20);
  assert.equal(ended, false, "the loop waits for the running job");
  release();
  await loop;
  assert.deepEqual(events.slice(-1), ["handed back a"]);
  assert.ok(!events.includes("start b"));
});
