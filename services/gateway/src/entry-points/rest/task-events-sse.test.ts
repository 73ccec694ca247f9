import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { StoredTask } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { notFound } from "../../domain/rpc-errors.js";
import { createTaskWatchHub } from "../../use-cases/task-watch-hub.js";
import { createWatchStreams } from "../../use-cases/watch-streams.js";
import { createTaskEventsSse } from "./task-events-sse.js";

const TASK_ID = newTaskId();

function record(status: TaskStatus, progress: number): TaskRecord {
  return create(TaskRecordSchema, { tenantId: "acme", task: { taskId: TASK_ID, status, progress } });
}

/**
 * A TaskStore the test feeds by hand: no record to read, and every pushed revision reaches the
 * watch of the task records open at the time; records whether that watch was stopped.
 */
function fakeStore() {
  const listeners = new Set<(s: StoredTask) => void>();
  const state = { watching: 0, stopped: 0 };
  const onStop: (() => void)[] = [];
  return {
    state,
    /** Resolves when the next watch ends. */
    nextStop: (): Promise<void> => new Promise((r) => onStop.push(r)),
    push(s: StoredTask): void {
      for (const l of listeners) l(s);
    },
    store: {
      get: async (): Promise<StoredTask | null> => null,
      async changes(signal: AbortSignal, wanted: (taskId: string) => boolean): Promise<AsyncIterable<StoredTask>> {
        state.watching++;
        const pending: StoredTask[] = [];
        let wake: (() => void) | undefined;
        const listener = (s: StoredTask): void => {
          pending.push(s);
          wake?.();
        };
        listeners.add(listener);
        return (async function* () {
          try {
            while (!signal.aborted) {
              const next = pending.shift();
              if (next) {
                if (wanted(next.record.task?.taskId ?? "")) yield next;
                continue;
              }
              await new Promise<void>((r) => {
                wake = r;
                signal.addEventListener("abort", () => r(), { once: true });
              });
            }
          } finally {
            listeners.delete(listener);
            state.stopped++;
            for (const r of onStop.splice(0)) r();
          }
        })();
      },
    },
  };
}

let server: Server;
let base: string;
let fake: ReturnType<typeof fakeStore>;
const stopping = new AbortController();
const log = createLogger("test", "silent");
/** Revoking "t2v_good" in a test resolves this. */
let revoke: () => void = () => undefined;

before(async () => {
  fake = fakeStore();
  const serve = createTaskEventsSse({
    getTask: async (caller, id) => {
      if (id !== TASK_ID || caller.tenantId !== "acme") throw notFound(`task ${id}`);
      return { record: record(TaskStatus.QUEUED, 0), revision: 1 };
    },
    hub: createTaskWatchHub({ tasks: fake.store, view: async (r) => r.task ?? assert.fail("no task"), log }),
    streams: createWatchStreams({
      limits: { perKey: 2, perTenant: 10, perGateway: 100 },
      retryAfterMs: 3_000,
      stallMs: 60_000,
      maxBufferedBytes: 1 << 20,
      revoked: (_prefix, signal) =>
        new Promise((resolve) => {
          revoke = () => resolve(true);
          signal.addEventListener("abort", () => resolve(false), { once: true });
        }),
      log,
    }),
    guard: {
      async admit(authorization) {
        if (authorization !== "Bearer good") throw new ConnectError("missing or unknown API key", Code.Unauthenticated);
        return { tenantId: "acme", tier: "standard", keyPrefix: "t2v_good" };
      },
    },
    stopping: stopping.signal,
    log,
    keepAliveMs: 30,
  });
  server = createServer((req, res) => {
    void serve(req, res, new URL(req.url ?? "/", "http://x")).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

/** The stream's text so far, read on until `until` holds or the stream ends. */
function sse(res: Response): { until(pred: (text: string) => boolean): Promise<string> } {
  const reader = res.body?.getReader() ?? assert.fail("no body");
  const decoder = new TextDecoder();
  let text = "";
  return {
    async until(pred) {
      while (!pred(text)) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
  };
}
const END = (): boolean => false;

describe("GET /v1/t2v/events (SSE)", () => {
  it("refuses a missing key, a key in the query string, and unknown tasks, as JSON", async () => {
    const none = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get("content-type") ?? "", /application\/json/);
    const inQuery = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}&api_key=good&access_token=good`);
    assert.equal(inQuery.status, 401, "keys in URLs are not accepted");
    const unknown = await fetch(`${base}/v1/t2v/events?task_id=${newTaskId()}`, {
      headers: { authorization: "Bearer good" },
    });
    assert.equal(unknown.status, 404);
    const post = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`, { method: "POST" });
    assert.equal(post.status, 405);
  });

  it("streams one event per revision with id = revision, keep-alive comments, and ends after a terminal state", async () => {
    const ctl = new AbortController();
    const res = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`, {
      headers: { authorization: "Bearer good" },
      signal: ctl.signal,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache, no-transform");
    const stream = sse(res);
    fake.push({ record: record(TaskStatus.QUEUED, 0), revision: 4 });
    const start = await stream.until((t) => t.includes("id: 4") && t.includes(": keep-alive"));
    assert.match(start, /^retry: \d+\n\n/);
    // One at a time: states the client had no time for may be skipped (only the newest waits), never the last.
    fake.push({ record: record(TaskStatus.PROCESSING, 0.5), revision: 5 });
    await stream.until((t) => t.includes("id: 5"));
    fake.push({ record: record(TaskStatus.COMPLETED, 1), revision: 7 });
    const text = await stream.until(END);
    const events = text
      .split("\n\n")
      .filter((e) => e.startsWith("id: "))
      .map((e) => {
        const [id, data] = e.split("\n");
        return { id: id?.slice(4), data: JSON.parse(data?.slice(6) ?? "{}") as { status: string; progress: number } };
      });
    assert.deepEqual(
      events.map((e) => [e.id, e.data.status, e.data.progress]),
      [
        ["4", "queued", 0],
        ["5", "processing", 0.5],
        ["7", "completed", 1],
      ],
    );
  });

  it("resumes after Last-Event-ID: only later revisions are sent", async () => {
    const res = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`, {
      headers: { authorization: "Bearer good", "last-event-id": "5" },
    });
    fake.push({ record: record(TaskStatus.PROCESSING, 0.5), revision: 5 });
    fake.push({ record: record(TaskStatus.COMPLETED, 1), revision: 7 });
    const text = await sse(res).until(END);
    assert.doesNotMatch(text, /id: 5\n/);
    assert.match(text, /id: 7\ndata: \{"task_id":"[^"]+","status":"completed"/);
  });

  it("caps open streams per API key (429, Retry-After) and ends a revoked key's streams", async () => {
    const open = () => fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`, { headers: { authorization: "Bearer good" } });
    const [a, b] = [await open(), await open()];
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    fake.push({ record: record(TaskStatus.QUEUED, 0), revision: 8 });
    const [sa, sb] = [sse(a), sse(b)];
    await sa.until((t) => t.includes("id: 8"));
    await sb.until((t) => t.includes("id: 8"));
    const third = await open();
    assert.equal(third.status, 429);
    assert.equal(third.headers.get("retry-after"), "3");
    const body = (await third.json()) as { error: { code: string; error_code: string } };
    assert.equal(body.error.code, "resource_exhausted");
    assert.equal(body.error.error_code, "STREAM_LIMIT");
    revoke();
    // Both responses end: reading to the end returns.
    await sa.until(END);
    await sb.until(END);
    const again = await open();
    assert.equal(again.status, 200, "closed streams no longer count");
    const stopped = fake.nextStop();
    await again.body?.cancel();
    await stopped;
  });

  it("stops its watch when the client goes away, and ends every stream on shutdown", async () => {
    const ctl = new AbortController();
    const res = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`, {
      headers: { authorization: "Bearer good" },
      signal: ctl.signal,
    });
    fake.push({ record: record(TaskStatus.QUEUED, 0), revision: 9 });
    await sse(res).until((t) => t.includes("id: 9"));
    const stopped = fake.nextStop();
    ctl.abort();
    await stopped;

    const open = await fetch(`${base}/v1/t2v/events?task_id=${TASK_ID}`, { headers: { authorization: "Bearer good" } });
    fake.push({ record: record(TaskStatus.QUEUED, 0), revision: 10 });
    const stream = sse(open);
    await stream.until((t) => t.includes("id: 10"));
    stopping.abort();
    // Returns only once the server has ended the response.
    assert.match(await stream.until(END), /id: 10/);
  });
});
