import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bearer } from "../support/auth.js";
import { useMesh } from "../support/use-mesh.js";

const mesh = useMesh();

interface SseEvent {
  id: string;
  data: { task_id: string; status: string; progress: number; result_url: string | null };
}

/** Reads a whole event stream (it ends after a terminal state) into its events. */
async function readStream(res: Response): Promise<{ events: SseEvent[]; text: string }> {
  const text = await res.text();
  return { events: parse(text), text };
}

function parse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((block) => /^id: /m.test(block))
    .map((block) => {
      const field = (name: string): string =>
        block
          .split("\n")
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2) ?? "";
      return { id: field("id"), data: JSON.parse(field("data")) as SseEvent["data"] };
    });
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${mesh.baseUrl}/v1/t2v/generate`, {
    method: "POST",
    headers: { ...bearer(mesh.apiKey), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { task_id: string }).task_id;
}

const events = (taskId: string, headers: Record<string, string> = bearer(mesh.apiKey)) =>
  fetch(`${mesh.baseUrl}/v1/t2v/events?task_id=${taskId}`, { headers });

describe("Server-Sent Events for REST users, against the real mesh", () => {
  it("streams the status JSON on every change, ids = revisions, until completed; Last-Event-ID resumes", async () => {
    const taskId = await submit({ prompt: "a hot air balloon at dawn", resolution: "480p", duration: 3, seed: 41 });
    // A first connection that drops once the task is running.
    const ctl = new AbortController();
    const res = await fetch(`${mesh.baseUrl}/v1/t2v/events?task_id=${taskId}`, {
      headers: bearer(mesh.apiKey),
      signal: ctl.signal,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = res.body?.getReader() ?? assert.fail("no body");
    const decoder = new TextDecoder();
    let firstText = "";
    while (!/"status":"processing"[^\n]*\n\n/.test(firstText)) {
      const { done, value } = await reader.read();
      if (done) assert.fail(`ended before processing: ${firstText}`);
      firstText += decoder.decode(value, { stream: true });
    }
    ctl.abort();
    assert.match(firstText, /^retry: \d+\n\n/);
    const first = parse(firstText);
    const lastSeen = first.at(-1)?.id ?? assert.fail();

    // The reconnect sends only what is newer than Last-Event-ID, to the end.
    const resumed = await readStream(await events(taskId, { ...bearer(mesh.apiKey), "last-event-id": lastSeen }));
    const seen = [...first, ...resumed.events];
    assert.ok(resumed.events.length > 0);
    assert.ok(
      resumed.events.every((e) => Number(e.id) > Number(lastSeen)),
      "nothing seen before is sent again",
    );
    const statuses = seen.map((e) => e.data.status);
    assert.equal(statuses.at(-1), "completed");
    assert.ok(statuses.includes("processing"), statuses.join(","));
    assert.ok(seen.every((e) => e.data.task_id === taskId));
    const ids = seen.map((e) => Number(e.id));
    for (let i = 1; i < ids.length; i++) assert.ok((ids[i] ?? 0) > (ids[i - 1] ?? 0), "ids increase");
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.data.progress ?? 0) >= (seen[i - 1]?.data.progress ?? 0));
    assert.match(seen.at(-1)?.data.result_url ?? "", /\/v1\/videos\/.+\.mp4\?exp=/);

    // The same shape as GET /v1/t2v/status.
    const status = await fetch(`${mesh.baseUrl}/v1/t2v/status?task_id=${taskId}`, { headers: bearer(mesh.apiKey) });
    assert.deepEqual(Object.keys((await status.json()) as object).sort(), Object.keys(seen.at(-1)?.data ?? {}).sort());

    // A finished task: without Last-Event-ID its final state, after its last id nothing; the stream just ends.
    const again = await readStream(await events(taskId));
    assert.deepEqual(
      again.events.map((e) => e.data.status),
      ["completed"],
    );
    const last = seen.at(-1)?.id ?? "";
    assert.deepEqual(
      (await readStream(await events(taskId, { ...bearer(mesh.apiKey), "last-event-id": last }))).events,
      [],
    );
  });

  it("needs the key in the Authorization header (not the URL) and hides other tenants' tasks", async () => {
    const taskId = await submit({ prompt: "a quiet harbour", resolution: "480p", duration: 3 });
    assert.equal((await events(taskId, {})).status, 401);
    const inUrl = await fetch(`${mesh.baseUrl}/v1/t2v/events?task_id=${taskId}&api_key=${mesh.apiKey}`);
    assert.equal(inUrl.status, 401, "a key in the query string is not accepted");
    const other = await mesh.createKey("someone-else");
    assert.equal((await events(taskId, bearer(other.key))).status, 404);
    assert.equal((await events("not-a-task")).status, 404);
    assert.equal((await events("x".repeat(65))).status, 400);
    await fetch(`${mesh.baseUrl}/t2v.v1.VideoService/CancelTask`, {
      method: "POST",
      headers: { ...bearer(mesh.apiKey), "content-type": "application/json" },
      body: JSON.stringify({ task_id: taskId }),
    });
    const { events: seen } = await readStream(await events(taskId));
    assert.equal(seen.at(-1)?.data.status, "cancelled", "a cancelled task's stream ends too");
  });
});
