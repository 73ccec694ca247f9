import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import type { Delivery, Inbox } from "@t2v/common/channels";
import { createLogger } from "@t2v/common/logger";
import { type RunHooks, workLoop } from "./work-loop.js";

/** An inbox that hands out queued deliveries (the message is their id) and otherwise answers null after a short wait. */
function fakeInbox(ids: string[], events: string[]): Inbox<string> {
  const queue = ids.map(
    (id): Delivery<string> => ({
      message: id,
      subject: "t2v.job.generate.standard",
      deliveryCount: 1,
      taskId: id,
      traceContext: ROOT_CONTEXT,
      working: () => void events.push(`working ${id}`),
      nak: () => void events.push(`nak ${id}`),
      ack: () => void events.push(`ack ${id}`),
      term: () => void events.push(`term ${id}`),
      keepAlive: () => () => undefined,
    }),
  );
  return { next: async () => queue.shift() ?? (await sleep(20).then(() => null)) };
}

const idOf = (d: Delivery<string>): string => d.message;
const log = createLogger("inference-test", "silent");

test("pipelined: the next job is prepared during the running one and starts when the model frees", async () => {
  const events: string[] = [];
  const stop = new AbortController();
  const handle = async (d: Delivery<string>, hooks: RunHooks): Promise<void> => {
    const id = idOf(d);
    events.push(`start ${id}`);
    await sleep(60); // denoising
    events.push(`free ${id}`);
    hooks.onModelFree();
    await sleep(60); // latents upload, DecodeJob
    events.push(`done ${id}`);
  };
  const loop = workLoop(fakeInbox(["a", "b"], events), handle, {
    signal: stop.signal,
    log,
    pipeline: true,
    prepare: async (d) => void events.push(`prepare ${idOf(d)}`),
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
    fakeInbox(["a", "b"], events),
    async (d, hooks) => {
      events.push(`start ${idOf(d)}`);
      await sleep(30);
      hooks.onModelFree();
      await sleep(30);
      events.push(`done ${idOf(d)}`);
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
    fakeInbox(["a", "b"], events),
    async (d) => {
      events.push(`start ${idOf(d)}`);
      await new Promise<void>((r) => {
        release = r;
      });
      events.push(`handed back ${idOf(d)}`);
    },
    { signal: stop.signal, log, pipeline: true, prepare: async (d) => void events.push(`prepare ${idOf(d)}`) },
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
