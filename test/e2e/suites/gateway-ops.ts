import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "@t2v/common/gen/grpc/health/v1/health_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { Webhook } from "standardwebhooks";
import { bearer } from "../../support/auth.js";
import { bufCurl } from "../../support/buf-curl.js";
import { freePort } from "../../support/free-port.js";
import { connectClient } from "../../support/gateway-clients.js";
import type { TestKey, TestMesh } from "../../support/mesh.js";
import { waitUntil } from "../../support/wait.js";
import { useWebhookReceiver } from "../../support/webhook-receiver.js";

/**
 * What operators and integrators rely on around the API: webhooks, health and
 * reflection, rate limits, graceful shutdown and a NATS outage. Needs a gateway
 * and a scheduler, started with WEBHOOK_ALLOW_HOSTS=127.0.0.1 and a short
 * WEBHOOK_RETRY_BASE_MS; the NATS outage leaves nats-server restarted.
 */
export function gatewayOpsTests(mesh: TestMesh): void {
  /** An extra gateway replica on its own port with its own settings. */
  async function extraGateway(name: string, env: Record<string, string>): Promise<string> {
    const port = await freePort();
    await mesh.start(name, { service: "gateway", env: { PORT: String(port), ...env } });
    return `http://127.0.0.1:${port}`;
  }

  describe("webhooks", () => {
    const receiver = useWebhookReceiver();
    let hooks: TestKey;

    before(async () => {
      hooks = await mesh.createKey("hooks");
    });

    const client = () => connectClient(mesh.baseUrl, hooks.key);
    const cancelled = (path: string) => (all: { path: string; body: string }[]) =>
      all.some((w) => w.path === path && JSON.parse(w.body).type === "task.cancelled");

    it("delivers a Standard Webhooks signed event on a state change", async () => {
      const t = await client().createTask({
        prompt: "hooked",
        resolution: "480p",
        duration: 3,
        webhookUrl: receiver.url("/ok"),
      });
      assert.equal(t.webhookUrl, receiver.url("/ok"));
      await client().cancelTask({ taskId: t.taskId });
      await receiver.waitFor(cancelled("/ok"));
      const w = receiver.received.find((x) => x.path === "/ok" && x.body.includes("task.cancelled"));
      assert.ok(w);
      const payload = new Webhook(hooks.webhookSecret).verify(w.body, w.headers) as {
        type: string;
        data: { taskId: string; status: string };
      };
      assert.equal(payload.data.taskId, t.taskId);
      assert.equal(payload.data.status, "TASK_STATUS_CANCELLED");
      assert.match(w.headers["webhook-id"] ?? "", new RegExp(`^${t.taskId}\\.cancelled\\.`));
      assert.throws(() =>
        new Webhook(`whsec_${Buffer.from("x".repeat(32)).toString("base64")}`).verify(w.body, w.headers),
      );
    });

    it("retries failures with the same webhook-id and does not follow redirects", async () => {
      receiver.answer = (path, previous) => {
        if (path === "/flaky") return { status: previous < 2 ? 500 : 200 };
        if (path === "/redirect")
          return previous === 0 ? { status: 302, headers: { location: "/elsewhere" } } : { status: 204 };
        if (path === "/gone") return { status: 410 };
        return { status: 200 };
      };
      for (const path of ["/flaky", "/redirect"]) {
        const t = await client().createTask({
          prompt: "retry me",
          resolution: "480p",
          duration: 3,
          webhookUrl: receiver.url(path),
        });
        await client().cancelTask({ taskId: t.taskId });
      }
      await receiver.waitFor(
        (all) => all.filter((w) => w.path === "/flaky" && w.body.includes("task.cancelled")).length >= 3,
      );
      await receiver.waitFor(
        (all) => all.filter((w) => w.path === "/redirect" && w.body.includes("task.cancelled")).length >= 2,
      );
      const flaky = receiver.received.filter((w) => w.path === "/flaky" && w.body.includes("task.cancelled"));
      assert.equal(new Set(flaky.map((w) => w.headers["webhook-id"])).size, 1, "stable id");
      for (const w of flaky) new Webhook(hooks.webhookSecret).verify(w.body, w.headers);
      assert.ok(!receiver.received.some((w) => w.path === "/elsewhere"), "redirect not followed");
    });

    it("stops after 410 Gone", async () => {
      const t = await client().createTask({
        prompt: "gone",
        resolution: "480p",
        duration: 3,
        webhookUrl: receiver.url("/gone"),
      });
      await client().cancelTask({ taskId: t.taskId });
      await receiver.waitFor((all) => all.some((w) => w.path === "/gone"));
      await waitUntil(
        async () => mesh.logs("gateway"),
        (logs) => /webhook disabled for this task/.test(logs),
        { timeoutMs: 10_000, what: "the gateway disabling the webhook", show: () => "no such log line" },
      );
      // Nothing more is expected, so give a retry the time it would take to come (several backoff bases).
      await delay(5 * Number(mesh.env.WEBHOOK_RETRY_BASE_MS));
      const gone = receiver.received.filter((w) => w.path === "/gone");
      // Events already in flight when the 410 came may still arrive once; none is retried.
      assert.equal(new Set(gone.map((w) => w.headers["webhook-id"])).size, gone.length, "no retries after 410");
      assert.ok(gone.length <= 2);
    });
  });

  describe("health and reflection", () => {
    it("lists services and calls methods through reflection with buf curl (v1 and v1alpha)", async () => {
      const list = await bufCurl(["--list-services", "--http2-prior-knowledge", mesh.baseUrl]);
      assert.equal(list.code, 0, list.stderr);
      for (const s of [
        "t2v.v1.VideoService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ])
        assert.match(list.stdout, new RegExp(s.replaceAll(".", "\\.")));
      const alpha = await bufCurl([
        "--list-methods",
        "--reflect-protocol",
        "grpc-v1alpha",
        "--http2-prior-knowledge",
        mesh.baseUrl,
      ]);
      assert.match(alpha.stdout, /t2v\.v1\.VideoService\/CreateTask/, alpha.stderr);
      const check = await bufCurl(["--http2-prior-knowledge", `${mesh.baseUrl}/grpc.health.v1.Health/Check`]);
      assert.match(check.stdout, /"SERVING"/, check.stderr);
      const call = await bufCurl([
        "--http2-prior-knowledge",
        "-H",
        `Authorization: Bearer ${mesh.apiKey}`,
        "-d",
        '{"page_size":1}',
        `${mesh.baseUrl}/t2v.v1.VideoService/ListTasks`,
      ]);
      assert.equal(call.code, 0, call.stderr);
      const denied = await bufCurl([
        "--http2-prior-knowledge",
        "-d",
        "{}",
        `${mesh.baseUrl}/t2v.v1.VideoService/ListTasks`,
      ]);
      assert.match(denied.stderr, /unauthenticated/i);
    });
  });

  describe("rate limits", () => {
    it("answers RESOURCE_EXHAUSTED with RetryInfo over the tier's rate, and 429 with Retry-After in REST", async () => {
      const base = await extraGateway("gateway-limited", { RATE_LIMIT_STANDARD: "30/2" });
      const key = await mesh.createKey("limited");
      const c = connectClient(base, key.key);
      await c.listTasks({});
      await c.listTasks({});
      const err = await c.listTasks({}).then(
        () => assert.fail("not limited"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.ResourceExhausted);
      const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
      assert.ok(delay && Number(delay.seconds) * 1000 + delay.nanos / 1e6 > 0);
      const rest = await fetch(`${base}/v1/t2v/status?task_id=x`, { headers: bearer(key.key) });
      assert.equal(rest.status, 429);
      assert.ok(Number(rest.headers.get("retry-after")) >= 1);
      // Another key has its own bucket.
      await connectClient(base, mesh.apiKey).listTasks({});
      await mesh.kill("gateway-limited");
    });
  });

  describe("graceful shutdown", () => {
    it("turns NOT_SERVING at once, ends streams cleanly and exits well within 30 s", async () => {
      const base = await extraGateway("gateway-draining", {});
      const health = createClient(Health, createGrpcTransport({ baseUrl: base }));
      const c = connectClient(base, mesh.apiKey);
      const t = await c.createTask({ prompt: "watched while the gateway stops", resolution: "720p", duration: 10 });
      const statuses: Serving[] = [];
      const healthDone = (async () => {
        for await (const h of health.watch({ service: "" })) statuses.push(h.status);
      })();
      const events: TaskStatus[] = [];
      const watchDone = (async () => {
        for await (const ev of c.watchTask({ taskId: t.taskId }))
          events.push(ev.task?.status ?? TaskStatus.UNSPECIFIED);
      })();
      await waitUntil(
        async () => statuses.length > 0 && events.length > 0,
        (both) => both,
        { everyMs: 20, what: "the first health status and task event" },
      );
      const started = Date.now();
      await mesh.kill("gateway-draining");
      const took = Date.now() - started;
      await healthDone;
      await watchDone;
      assert.deepEqual([statuses[0], statuses.at(-1)], [Serving.SERVING, Serving.NOT_SERVING]);
      assert.ok(events.length >= 1);
      assert.ok(took < 10_000, `took ${took} ms`);
      assert.equal(mesh.process("gateway-draining").exitCode, 0);
      await connectClient(mesh.baseUrl, mesh.apiKey).cancelTask({ taskId: t.taskId });
    });
  });

  describe("NATS outage", () => {
    it("reports NOT_SERVING while NATS is down and SERVING once it is back", async () => {
      const health = createClient(Health, createGrpcTransport({ baseUrl: mesh.baseUrl }));
      assert.equal((await health.check({})).status, Serving.SERVING);
      assert.equal(
        await health.check({ service: "no.such.Service" }).then(
          () => "OK",
          (e: unknown) => Code[ConnectError.from(e).code],
        ),
        "NotFound",
      );
      const status = async () => (await health.check({})).status;
      await mesh.nats.down();
      await waitUntil(status, (s) => s === Serving.NOT_SERVING, {
        timeoutMs: 10_000,
        what: "NOT_SERVING with NATS down",
        show: (s) => Serving[s],
      });
      await mesh.nats.up();
      await waitUntil(status, (s) => s === Serving.SERVING, {
        timeoutMs: 20_000,
        everyMs: 200,
        what: "SERVING after NATS came back",
        show: (s) => Serving[s],
      });
    });
  });
}
