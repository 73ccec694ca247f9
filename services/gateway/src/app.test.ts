import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { openApiKeyStore } from "@t2v/common/api-keys";
import { channels, createMemoryBus, type MemoryBus, openMediaStores } from "@t2v/common/channels";
import { TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask } from "@t2v/common/task";
import { type Gateway, start } from "./app.js";
import { publicResolver, silentLog, type Tenant, tenant, testConfig } from "./testing/gateway-fixture.js";

/** The whole gateway, listening on a free port, on an in-memory bus. */
async function startGateway(env: Record<string, string> = {}) {
  const bus = createMemoryBus();
  const gateway = await start(testConfig(env), { bus, log: silentLog, resolve: publicResolver });
  const keys = await openApiKeyStore(bus);
  return { bus, gateway, keys, base: `http://127.0.0.1:${gateway.port}`, alice: await tenant(keys, "alice") };
}

/**
 * Stops the gateway and closes the bus at once: closing the in-memory bus ends
 * the webhook dispatcher's pending pulls, which would otherwise run out their 2 s.
 */
async function stopAll(gateway: Gateway, bus: MemoryBus): Promise<void> {
  const stopped = gateway.stop();
  await bus.close();
  await stopped;
}

describe("REST compatibility API (app.start on port 0)", () => {
  let bus: MemoryBus;
  let gateway: Gateway;
  let base: string;
  let alice: Tenant;
  before(async () => {
    ({ bus, gateway, base, alice } = await startGateway());
  });
  after(() => stopAll(gateway, bus));
  const authed = (init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { authorization: `Bearer ${alice.key}`, "content-type": "application/json", ...init.headers },
  });
  const generate = (body: unknown, init: RequestInit = {}) =>
    fetch(`${base}/v1/t2v/generate`, authed({ method: "POST", body: JSON.stringify(body), ...init }));

  it("generates a task and reports its status", async () => {
    const res = await generate({ prompt: "樱花", resolution: "480p", duration: 3, frame_rate: 24, style: "cinematic" });
    assert.equal(res.status, 200);
    const created = (await res.json()) as { task_id: string; status: string };
    assert.match(created.task_id, /^[0-9a-f-]{36}$/);
    assert.equal(created.status, "queued");
    const status = await fetch(`${base}/v1/t2v/status?task_id=${created.task_id}`, authed());
    assert.equal(status.status, 200);
    const body = (await status.json()) as Record<string, unknown>;
    assert.equal(body.task_id, created.task_id);
    assert.equal(body.status, "queued");
    assert.equal(body.progress, 0);
    assert.equal(body.result_url, null);
    assert.equal(body.tier, "standard");
    assert.equal(body.error_code, null);
    assert.equal("preview" in body, false, "the REST API never carries previews");
  });

  it("answers 400 naming the field", async () => {
    const res = await generate({ prompt: "", duration: 30 });
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      detail: string;
      error: { code: string; error_code: string; field_violations: { field: string }[] };
    };
    assert.equal(body.error.code, "invalid_argument");
    assert.equal(body.error.error_code, "INVALID_INPUT");
    assert.ok(body.detail.length > 0);
    assert.deepEqual(body.error.field_violations.map((v) => v.field).sort(), ["duration", "prompt"]);
  });

  it("answers 401 without a key or with a bad one", async () => {
    const none = await fetch(`${base}/v1/t2v/generate`, { method: "POST", body: "{}" });
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, "unauthenticated");
    const bad = await fetch(`${base}/v1/t2v/status?task_id=x`, { headers: { authorization: "Bearer nope" } });
    assert.equal(bad.status, 401);
  });

  it("answers 404 for a missing or another tenant's task", async () => {
    const res = await fetch(`${base}/v1/t2v/status?task_id=0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee`, authed());
    assert.equal(res.status, 404);
    const created = (await (await generate({ prompt: "mine" })).json()) as { task_id: string };
    const bob = await tenant(await openApiKeyStore(bus), "bob");
    const foreign = await fetch(`${base}/v1/t2v/status?task_id=${created.task_id}`, {
      headers: { authorization: `Bearer ${bob.key}` },
    });
    assert.equal(foreign.status, 404);
  });

  it("answers 405 for the wrong method, 404 off the routes, and the probes", async () => {
    assert.equal((await fetch(`${base}/v1/t2v/generate`, authed())).status, 405);
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    gateway.health.set(false);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    gateway.health.set(true);
  });

  it("DELETE /v1/t2v/tasks/<id>: the owner deletes (result_state deleted, video gone), others and missing ids get 404", async () => {
    const ch = channels(bus);
    const created = (await (await generate({ prompt: "to delete" })).json()) as { task_id: string };
    const { videos } = await openMediaStores(bus, { videoTtlHours: 168 });
    await videos.put(`${created.task_id}.mp4`, new Uint8Array([1, 2, 3]));
    await ch.tasks.update(created.task_id, (r) => {
      const done = endTask(r, TaskStatus.COMPLETED);
      if (done) done.videoObject = `${created.task_id}.mp4`;
      return done;
    });
    const url = `${base}/v1/t2v/tasks/${created.task_id}`;
    const before = (await (await fetch(`${base}/v1/t2v/status?task_id=${created.task_id}`, authed())).json()) as {
      result_state: string;
    };
    assert.equal(before.result_state, "available");

    const bob = await tenant(await openApiKeyStore(bus), "bob");
    const foreign = await fetch(url, { method: "DELETE", headers: { authorization: `Bearer ${bob.key}` } });
    assert.equal(foreign.status, 404);
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, "not_found");
    assert.ok(await videos.info(`${created.task_id}.mp4`), "another tenant's DELETE removes nothing");
    const missing = await fetch(
      `${base}/v1/t2v/tasks/0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee`,
      authed({ method: "DELETE" }),
    );
    assert.equal(missing.status, 404);
    assert.equal((await fetch(`${base}/v1/t2v/tasks/not-a-task`, authed({ method: "DELETE" }))).status, 404);
    assert.equal((await fetch(`${base}/v1/t2v/tasks/`, authed({ method: "DELETE" }))).status, 400);
    assert.equal((await fetch(url, { method: "DELETE" })).status, 401);
    const wrong = await fetch(url, authed());
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "DELETE");

    const res = await fetch(url, authed({ method: "DELETE" }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { task_id: string; status: string; result_state: string; result_url: null };
    assert.equal(body.task_id, created.task_id);
    assert.equal(body.status, "completed");
    assert.equal(body.result_state, "deleted");
    assert.equal(body.result_url, null);
    assert.equal(await videos.info(`${created.task_id}.mp4`), null);
    const after = (await (await fetch(`${base}/v1/t2v/status?task_id=${created.task_id}`, authed())).json()) as {
      result_state: string;
      result_url: null;
    };
    assert.equal(after.result_state, "deleted");
    assert.equal(after.result_url, null);
    assert.equal((await fetch(url, authed({ method: "DELETE" }))).status, 200, "deleting again is a no-op");
  });

  it("serves a finished video by its signed link, with Range and HEAD, and 403 for a changed one", async () => {
    const ch = channels(bus);
    const created = (await (await generate({ prompt: "a video" })).json()) as { task_id: string };
    const { videos } = await openMediaStores(bus, { videoTtlHours: 168 });
    const bytes = new Uint8Array(1000).map((_, i) => i % 251);
    await videos.put(`${created.task_id}.mp4`, bytes);
    await ch.tasks.update(created.task_id, (r) => {
      const done = endTask(r, TaskStatus.COMPLETED);
      if (done) done.videoObject = `${created.task_id}.mp4`;
      return done;
    });
    const status = (await (await fetch(`${base}/v1/t2v/status?task_id=${created.task_id}`, authed())).json()) as {
      result_url: string;
    };
    assert.ok(status.result_url.startsWith(`${base}/v1/videos/${created.task_id}.mp4?exp=`));
    const full = await fetch(status.result_url);
    assert.equal(full.status, 200);
    assert.deepEqual(new Uint8Array(await full.arrayBuffer()), bytes);
    const part = await fetch(status.result_url, { headers: { range: "bytes=10-19" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), "bytes 10-19/1000");
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.subarray(10, 20));
    const head = await fetch(status.result_url, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "1000");
    // The signature's first character changed (to "x", or to "y" when it was "x": 1 link in 64).
    const tampered = status.result_url.replace(/sig=(.)/, (_, c: string) => `sig=${c === "x" ? "y" : "x"}`);
    assert.equal((await fetch(tampered)).status, 403);
    // Unsigned: the owner's key works, nobody else's does.
    assert.equal((await fetch(`${base}/v1/videos/${created.task_id}.mp4`, authed())).status, 200);
    assert.equal((await fetch(`${base}/v1/videos/${created.task_id}.mp4`)).status, 401);
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe("webhooks (app.start, local receiver)", () => {
  it("delivers a task change to the webhook URL with a valid Standard Webhooks signature", async () => {
    const received: Received[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204);
        res.end();
      });
    });
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const { bus, gateway, base, alice, keys } = await startGateway({
      WEBHOOK_ALLOW_HOSTS: "127.0.0.1",
      WEBHOOK_RETRY_BASE_MS: "50",
    });
    try {
      const res = await fetch(`${base}/v1/t2v/generate`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice.key}`, "content-type": "application/json" },
        body: JSON.stringify({ prompt: "a cat", webhook_url: hook }),
      });
      const { task_id } = (await res.json()) as { task_id: string };
      // A cancel is a change the gateway publishes itself.
      const client = createClient(VideoService, createConnectTransport({ baseUrl: base, httpVersion: "1.1" }));
      await client.cancelTask({ taskId: task_id }, alice.auth);
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const [hit] = received;
      assert.ok(hit, "no webhook arrived");
      const id = String(hit.headers["webhook-id"]);
      const ts = String(hit.headers["webhook-timestamp"]);
      assert.equal(id, `${task_id}.cancelled.1`);
      const secret = (await keys.tenant("alice")).webhookSecret;
      const want = createHmac("sha256", Buffer.from(secret.replace(/^whsec_/, ""), "base64"))
        .update(`${id}.${ts}.${hit.body}`)
        .digest("base64");
      assert.equal(hit.headers["webhook-signature"], `v1,${want}`);
      const event = JSON.parse(hit.body) as { type: string; data: { taskId: string; status: string } };
      assert.equal(event.type, "task.cancelled");
      assert.equal(event.data.taskId, task_id);
      assert.equal(event.data.status, "TASK_STATUS_CANCELLED");
    } finally {
      await stopAll(gateway, bus);
      receiver.close();
    }
  });
});
