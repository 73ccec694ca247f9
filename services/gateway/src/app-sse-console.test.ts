import assert from "node:assert/strict";
import { once } from "node:events";
import { get, type IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { type Channels, channels, createMemoryBus, type MemoryBus } from "@t2v/common/channels";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, patchRecord } from "@t2v/common/task";
import { type Gateway, start } from "./app.js";
import { publicResolver, silentLog, type Tenant, tenant, testConfig } from "./testing/gateway-fixture.js";

interface SseEvent {
  id: number;
  data: Record<string, unknown>;
}

/** Reads a text/event-stream: the events so far, read on until `until` holds or the stream ends. */
function sseReader(res: Response) {
  const reader = res.body?.getReader() ?? assert.fail("no body");
  const decoder = new TextDecoder();
  let text = "";
  const events = (): SseEvent[] =>
    text
      .split("\n\n")
      .filter((e) => e.startsWith("id: "))
      .map((e) => {
        const [id, data] = e.split("\n");
        return { id: Number(id?.slice(4)), data: JSON.parse(data?.slice(6) ?? "{}") as Record<string, unknown> };
      });
  return {
    async until(pred: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
      while (!pred(events())) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      return events();
    },
  };
}
const END = (): boolean => false;

describe("task events (SSE) and the web console, through the whole gateway (app.start on port 0)", () => {
  let bus: MemoryBus;
  let ch: Channels;
  let gateway: Gateway;
  let base: string;
  let alice: Tenant;
  let bob: Tenant;
  let stopped: Promise<void> | undefined;
  /** Once: the last test stops the gateway itself. */
  const stop = (): Promise<void> => {
    stopped ??= gateway.stop();
    return stopped;
  };
  before(async () => {
    bus = createMemoryBus();
    ch = channels(bus);
    gateway = await start(testConfig(), { bus, log: silentLog, resolve: publicResolver });
    base = `http://127.0.0.1:${gateway.port}`;
    const keys = await openApiKeyStore(bus);
    alice = await tenant(keys, "alice");
    bob = await tenant(keys, "bob");
  });
  after(async () => {
    const done = stop();
    await bus.close();
    await done;
  });

  const bearer = (t: Tenant) => ({ authorization: `Bearer ${t.key}` });
  async function submit(): Promise<string> {
    const res = await fetch(`${base}/v1/t2v/generate`, {
      method: "POST",
      headers: { ...bearer(alice), "content-type": "application/json" },
      body: JSON.stringify({ prompt: "a lighthouse at dusk", resolution: "480p", duration: 3 }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { task_id: string }).task_id;
  }
  const events = (taskId: string, headers: Record<string, string>) =>
    fetch(`${base}/v1/t2v/events?task_id=${taskId}`, { headers });

  it("streams the REST status JSON on each change of the record, ids = revisions, and ends after the terminal state", async () => {
    const taskId = await submit();
    const res = await events(taskId, bearer(alice));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const stream = sseReader(res);
    await stream.until((e) => e.length >= 1);
    await ch.tasks.update(taskId, (r) => patchRecord(r, { status: TaskStatus.PROCESSING, progress: 0.5 }));
    await stream.until((e) => e.length >= 2);
    await ch.tasks.update(taskId, (r) => endTask(r, TaskStatus.COMPLETED, { progress: 1 }));
    const all = await stream.until(END);
    assert.deepEqual(
      all.map((e) => [e.data.task_id, e.data.status, e.data.progress]),
      [
        [taskId, "queued", 0],
        [taskId, "processing", 0.5],
        [taskId, "completed", 1],
      ],
    );
    const ids = all.map((e) => e.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      "revisions only go up",
    );
    // The same shape as GET /v1/t2v/status.
    const status = await fetch(`${base}/v1/t2v/status?task_id=${taskId}`, { headers: bearer(alice) });
    const body = (await status.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(all[2]?.data ?? {}).sort(), Object.keys(body).sort());

    // Resuming after the last event seen: only what came later, here nothing (the stream just ends).
    const last = ids.at(-1) ?? assert.fail("no events");
    const resumed = await events(taskId, { ...bearer(alice), "last-event-id": String(last) });
    assert.deepEqual(await sseReader(resumed).until(END), []);
    const fromMiddle = await events(taskId, { ...bearer(alice), "last-event-id": String(ids[0]) });
    assert.deepEqual(
      (await sseReader(fromMiddle).until(END)).map((e) => e.data.status),
      ["completed"],
      "the record as it stands now",
    );
  });

  it("answers JSON errors: 401 without a key, 404 for another tenant's task, 400 for a malformed id", async () => {
    const taskId = await submit();
    const none = await events(taskId, {});
    assert.equal(none.status, 401);
    assert.match(none.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await events(taskId, bearer(bob))).status, 404);
    assert.equal((await fetch(`${base}/v1/t2v/events`, { headers: bearer(alice) })).status, 400);
  });

  it("serves the web console at / with its CSP (or says how to build it)", async () => {
    const res = await fetch(`${base}/`);
    if (res.status === 200) {
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    } else {
      assert.equal(res.status, 404);
      assert.match(await res.text(), /npm run build/);
    }
  });

  it("ends open streams when the gateway stops", async () => {
    const taskId = await submit();
    // Without keep-alive (agent: false): the stop does not then wait for the client to drop an idle connection.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      get(`${base}/v1/t2v/events?task_id=${taskId}`, { agent: false, headers: bearer(alice) }, resolve).on(
        "error",
        reject,
      );
    });
    assert.equal(res.statusCode, 200);
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      text += chunk;
    });
    while (!text.includes("id: ")) await once(res, "data");
    const ended = once(res, "end");
    const done = stop();
    // Resolves only once the server has ended the response.
    await ended;
    assert.match(text, /"status":"queued"/);
    // Closing the bus ends the webhook dispatcher's pending pull, which would otherwise run out its 2 s.
    await bus.close();
    await done;
  });
});
