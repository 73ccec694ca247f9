import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { toBinary } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { apiKeyPrefix } from "@t2v/common/api-keys";
import { RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { ApiKeySchema } from "@t2v/common/gen/t2v/internal/v1/gateway_state_pb";
import { type Task, TaskStatus, type VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { Webhook } from "standardwebhooks";
import { bearer } from "../../support/auth.js";
import { codeOf, connectClient, grpcClient, grpcWebClient } from "../../support/gateway-clients.js";
import { grpcVideoClient } from "../../support/grpc-video-client.js";
import { REPO_ROOT, type TestKey, type TestMesh } from "../../support/mesh.js";
import { waitUntil } from "../../support/wait.js";
import { useWebhookReceiver } from "../../support/webhook-receiver.js";

/**
 * The gateway's public API around one finished task of tenant "owner": API
 * keys, tenant isolation, idempotency, admission, request validation, signed
 * downloads and the REST compatibility API (/v1/t2v/*). Needs the mesh started
 * with DOWNLOAD_SIGNING_SECRET, MAX_QUEUED_PER_TENANT_BATCH=2 and
 * WEBHOOK_ALLOW_HOSTS=127.0.0.1.
 */
export function gatewayApiTests(mesh: TestMesh): void {
  describe("gateway API", () => {
    const receiver = useWebhookReceiver();
    let owner: TestKey;
    let other: TestKey;
    let mine: Client<typeof VideoService>;
    let theirs: Client<typeof VideoService>;
    let done: Task;

    before(async () => {
      owner = await mesh.createKey("owner");
      other = await mesh.createKey("other");
      mine = connectClient(mesh.baseUrl, owner.key);
      theirs = connectClient(mesh.baseUrl, other.key);
      const t = await mine.createTask({
        prompt: "a lantern on a pier",
        resolution: "480p",
        duration: 3,
        frameRate: 16,
        webhookUrl: receiver.url("/done"),
      });
      for await (const ev of mine.watchTask({ taskId: t.taskId })) if (ev.task) done = ev.task;
      assert.equal(done.status, TaskStatus.COMPLETED, done.errorMessage);
    });

    const MISSING = "01a00000-0000-7000-8000-000000000000";

    describe("API keys", () => {
      it("refuses a missing, malformed, unknown or revoked key on every protocol", async () => {
        const revoked = await mesh.createKey("owner");
        assert.ok(await mesh.apiKeys.revoke(apiKeyPrefix(revoked.key) ?? ""));
        const unknown = `t2v_0123456789ab_${"A".repeat(43)}`;
        for (const key of ["", "not-a-key", unknown, revoked.key]) {
          assert.equal(
            await codeOf(connectClient(mesh.baseUrl, key).getTask({ taskId: done.taskId })),
            "Unauthenticated",
          );
          assert.equal(await codeOf(grpcClient(mesh.baseUrl, key).listTasks({})), "Unauthenticated");
          assert.equal(await codeOf(grpcWebClient(mesh.baseUrl, key).listTasks({})), "Unauthenticated");
          const g = grpcVideoClient(`127.0.0.1:${mesh.port}`, key);
          await assert.rejects(g.getTask(done.taskId), (e: { code: number }) => e.code === 16);
          g.close();
          const rest = await fetch(`${mesh.baseUrl}/v1/t2v/status?task_id=${done.taskId}`, {
            headers: key ? bearer(key) : {},
          });
          assert.equal(rest.status, 401);
          assert.ok(!(await rest.text()).includes(key) || key === "", "the key is not echoed");
        }
        assert.equal(
          (await grpcWebClient(mesh.baseUrl, owner.key).getTask({ taskId: done.taskId })).taskId,
          done.taskId,
        );
        assert.ok(!mesh.logs("gateway").includes(owner.key), "keys never reach the logs");
      });

      it("stores only hashes", async () => {
        // Each stored record, unknown fields included, as the bytes the key bucket holds.
        const records = await mesh.apiKeys.list();
        assert.ok(records.some((r) => r.tenantId === owner.tenantId));
        for (const r of records) {
          assert.ok(!Buffer.from(toBinary(ApiKeySchema, r)).toString("latin1").includes(owner.key.slice(17)));
        }
      });
    });

    describe("tenants", () => {
      it("answers another tenant's task exactly like a missing one, on every method", async () => {
        const id = done.taskId;
        const same = async (call: (taskId: string) => Promise<unknown>): Promise<void> => {
          const a = await call(id).then(
            () => null,
            (e: unknown) => ConnectError.from(e),
          );
          const b = await call(MISSING).then(
            () => null,
            (e: unknown) => ConnectError.from(e),
          );
          assert.equal(a?.code, Code.NotFound);
          assert.equal(b?.code, Code.NotFound);
          assert.equal(a?.rawMessage.replace(id, "X"), b?.rawMessage.replace(MISSING, "X"));
        };
        await same((taskId) => theirs.getTask({ taskId }));
        await same((taskId) => theirs.cancelTask({ taskId }));
        await same(async (taskId) => {
          for await (const _ of theirs.watchTask({ taskId })) return;
        });
        const listed = await theirs.listTasks({});
        assert.ok(!listed.tasks.some((t) => t.taskId === id));
        assert.ok((await mine.listTasks({})).tasks.some((t) => t.taskId === id));
        // The task is untouched by the foreign cancel.
        assert.equal((await mine.getTask({ taskId: id })).status, TaskStatus.COMPLETED);
        // REST and unsigned downloads.
        for (const path of [`/v1/t2v/status?task_id=${id}`, `/v1/videos/${id}.mp4`, `/v1/videos/${id}.jpg`]) {
          const foreign = await fetch(`${mesh.baseUrl}${path}`, { headers: bearer(other.key) });
          const missing = await fetch(`${mesh.baseUrl}${path.replaceAll(id, MISSING)}`, { headers: bearer(other.key) });
          assert.equal(foreign.status, 404, path);
          assert.equal(missing.status, 404, path);
          assert.equal((await foreign.text()).replaceAll(id, "X"), (await missing.text()).replaceAll(MISSING, "X"));
        }
        assert.equal((await fetch(`${mesh.baseUrl}/v1/videos/${id}.mp4`, { headers: bearer(owner.key) })).status, 200);
      });

      it("filters ListTasks by status, newest first, with bounded pages", async () => {
        const a = await mine.createTask({ prompt: "list one", resolution: "480p", duration: 3 });
        await mine.cancelTask({ taskId: a.taskId });
        const b = await mine.createTask({ prompt: "list two", resolution: "480p", duration: 3 });
        await mine.cancelTask({ taskId: b.taskId });
        const cancelled = await mine.listTasks({ status: TaskStatus.CANCELLED, pageSize: 1 });
        assert.deepEqual(
          cancelled.tasks.map((t) => t.taskId),
          [b.taskId],
        );
        const next = await mine.listTasks({
          status: TaskStatus.CANCELLED,
          pageSize: 1,
          pageToken: cancelled.nextPageToken,
        });
        assert.deepEqual(
          next.tasks.map((t) => t.taskId),
          [a.taskId],
        );
        const completed = await mine.listTasks({ status: TaskStatus.COMPLETED, pageSize: 1000 });
        assert.ok(completed.tasks.every((t) => t.status === TaskStatus.COMPLETED));
        assert.equal(await codeOf(mine.listTasks({ pageToken: "garbage" })), "InvalidArgument");
      });
    });

    describe("idempotency keys", () => {
      const body = { prompt: "an idempotent boat", resolution: "480p", duration: 3 };

      it("returns the first task for the same key and body, on any protocol", async () => {
        const first = await mine.createTask({ ...body, idempotencyKey: "k-1" });
        const again = await grpcClient(mesh.baseUrl, owner.key).createTask({ ...body, idempotencyKey: "k-1" });
        assert.equal(again.taskId, first.taskId);
        assert.equal(again.idempotencyKey, "k-1");
        const viaHeader = await mine.createTask(body, { headers: { "idempotency-key": "k-1" } });
        assert.equal(viaHeader.taskId, first.taskId);
        const rest = await fetch(`${mesh.baseUrl}/v1/t2v/generate`, {
          method: "POST",
          headers: { ...bearer(owner.key), "idempotency-key": "k-1", "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(((await rest.json()) as { task_id: string }).task_id, first.taskId);
        await mine.cancelTask({ taskId: first.taskId });
      });

      it("refuses the same key with another body, and scopes keys per tenant", async () => {
        const first = await mine.createTask({ ...body, idempotencyKey: "k-2" });
        const err = await mine.createTask({ ...body, prompt: "another", idempotencyKey: "k-2" }).then(
          () => assert.fail("accepted"),
          (e: unknown) => ConnectError.from(e),
        );
        assert.equal(err.code, Code.AlreadyExists);
        const rest = await fetch(`${mesh.baseUrl}/v1/t2v/generate`, {
          method: "POST",
          headers: { ...bearer(owner.key), "idempotency-key": "k-2", "content-type": "application/json" },
          body: JSON.stringify({ ...body, duration: 4 }),
        });
        assert.equal(rest.status, 409);
        const foreign = await theirs.createTask({ ...body, idempotencyKey: "k-2" });
        assert.notEqual(foreign.taskId, first.taskId);
        await mine.cancelTask({ taskId: first.taskId });
        await theirs.cancelTask({ taskId: foreign.taskId });
      });

      it("answers concurrent retries with one task", async () => {
        const all = await Promise.all(
          Array.from({ length: 8 }, () => mine.createTask({ ...body, idempotencyKey: "k-race" })),
        );
        assert.equal(new Set(all.map((t) => t.taskId)).size, 1);
        await mine.cancelTask({ taskId: all[0]?.taskId ?? "" });
      });
    });

    describe("admission", () => {
      it("refuses a tenant at its tier's queue limit with RESOURCE_EXHAUSTED and RetryInfo", async () => {
        const crowded = await mesh.createKey("crowded", "batch");
        // The scheduler's admission stats for the tenant, as if it had that many queued.
        const put = (queued: number) => mesh.channels.queueStats.write("crowded", queued, 0);
        await put(2);
        const client = connectClient(mesh.baseUrl, crowded.key);
        const err = await client.createTask({ prompt: "one more", resolution: "480p", duration: 3 }).then(
          () => assert.fail("admitted"),
          (e: unknown) => ConnectError.from(e),
        );
        assert.equal(err.code, Code.ResourceExhausted);
        assert.ok(err.findDetails(RetryInfoSchema)[0]?.retryDelay, "RetryInfo");
        const rest = await fetch(`${mesh.baseUrl}/v1/t2v/generate`, {
          method: "POST",
          headers: { ...bearer(crowded.key), "content-type": "application/json" },
          body: JSON.stringify({ prompt: "one more" }),
        });
        assert.equal(rest.status, 429);
        assert.ok(Number(rest.headers.get("retry-after")) >= 1);
        await put(1);
        // The gateway hears the new stats through its watch of the bucket, milliseconds later.
        const ok = await waitUntil(
          () => client.createTask({ prompt: "fits", resolution: "480p", duration: 3 }),
          () => true,
          { timeoutMs: 5_000, everyMs: 20, what: "admission once the tenant's queue drops below the limit" },
        );
        assert.equal(ok.tier, "batch");
        await client.cancelTask({ taskId: ok.taskId });
      });
    });

    describe("validation", () => {
      it("refuses webhook URLs that are not https or reach internal addresses", async () => {
        const bad = [
          "http://93.184.216.34/hook",
          "https://127.0.0.2/hook",
          "https://2130706434/hook",
          "https://[::1]/hook",
          "https://[::ffff:127.0.0.2]/hook",
          "https://[::ffff:a9fe:a9fe]/hook",
          "https://169.254.169.254/latest/meta-data/",
          "https://100.100.100.200/",
          "https://10.0.0.1/",
          "https://192.168.1.1/",
          "https://[fe80::1]/",
          "https://[fd00:ec2::254]/",
          "https://224.0.0.1/",
          "https://0.0.0.0/",
          "https://user:pw@93.184.216.34/",
          "ftp://93.184.216.34/",
          "not a url",
          "https://no-such-host.invalid/",
        ];
        for (const webhookUrl of bad) {
          const err = await mine.createTask({ prompt: "x", webhookUrl }).then(
            () => assert.fail(`accepted ${webhookUrl}`),
            (e: unknown) => ConnectError.from(e),
          );
          assert.equal(err.code, Code.InvalidArgument, webhookUrl);
          assert.match(err.rawMessage, /webhook_url/, webhookUrl);
        }
      });

      it("bounds the timeout and sets the deadline from it", async () => {
        assert.equal(await codeOf(mine.createTask({ prompt: "x", timeout: { seconds: 30n } })), "InvalidArgument");
        assert.equal(await codeOf(mine.createTask({ prompt: "x", timeout: { seconds: 90_000n } })), "InvalidArgument");
        const t = await mine.createTask({ prompt: "x", resolution: "480p", duration: 3, timeout: { seconds: 600n } });
        assert.equal(Number(t.deadline?.seconds) - Number(t.createTime?.seconds), 600);
        await mine.cancelTask({ taskId: t.taskId });
      });
    });

    describe("signed downloads", () => {
      it("serves result and poster links without a key, with Range and HEAD", async () => {
        assert.match(done.resultUrl, /\/v1\/videos\/[0-9a-f-]{36}\.mp4\?exp=\d+&sig=[\w-]+$/);
        assert.ok(done.resultExpireTime);
        const head = await fetch(done.resultUrl, { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get("content-type"), "video/mp4");
        const part = await fetch(done.resultUrl, { headers: { range: "bytes=0-9" } });
        assert.equal(part.status, 206);
        assert.equal((await part.arrayBuffer()).byteLength, 10);
        if (done.posterUrl) {
          const poster = await fetch(done.posterUrl);
          assert.equal(poster.status, 200);
          assert.equal(poster.headers.get("content-type"), "image/jpeg");
          const bytes = new Uint8Array(await poster.arrayBuffer());
          assert.deepEqual([bytes[0], bytes[1]], [0xff, 0xd8], "a JPEG");
        }
      });

      it("sends the completion webhook with the signed links", async () => {
        await receiver.waitFor((all) => all.some((w) => w.body.includes("task.completed")));
        const w = receiver.received.find((x) => x.body.includes("task.completed"));
        assert.ok(w);
        const payload = new Webhook(owner.webhookSecret).verify(w.body, w.headers) as { data: { resultUrl: string } };
        assert.equal(payload.data.resultUrl, done.resultUrl);
      });

      it("answers 403 to tampered or expired links and 401 to unsigned ones without a key", async () => {
        const url = new URL(done.resultUrl);
        const sig = url.searchParams.get("sig") ?? "";
        const exp = Number(url.searchParams.get("exp"));
        const variant = (e: number | string, s: string, file = `${done.taskId}.mp4`) =>
          `${mesh.baseUrl}/v1/videos/${file}?exp=${e}&sig=${s}`;
        const { createHmac } = await import("node:crypto");
        const sign = (file: string, e: number) =>
          createHmac("sha256", mesh.env.DOWNLOAD_SIGNING_SECRET ?? "")
            .update(`${file}\n${e}`)
            .digest("base64url");
        const past = Math.floor(Date.now() / 1000) - 10;
        for (const u of [
          variant(exp + 1, sig),
          variant(exp, `${sig.slice(0, -2)}AA`),
          variant(exp, ""),
          variant("abc", sig),
          variant(exp, sig, `${done.taskId}.jpg`),
          variant(past, sign(`${done.taskId}.mp4`, past)),
        ]) {
          assert.equal((await fetch(u)).status, 403, u);
        }
        assert.equal(
          (await fetch(variant(exp, sign(`${done.taskId}.mp4`, exp)))).status,
          200,
          "our own signing agrees",
        );
        assert.equal((await fetch(`${mesh.baseUrl}/v1/videos/${done.taskId}.mp4`)).status, 401);
      });
    });

    describe("the REST compatibility API", () => {
      it("answers the original article's Python client, run as written, with a download link", async (t) => {
        const run = promisify(execFile);
        try {
          await run("python3", ["-c", "import requests"]);
        } catch {
          t.skip("python3 with requests is not installed");
          return;
        }
        const source = await readFile(join(REPO_ROOT, "test", "e2e", "fixtures", "t2v-rest-client.py"), "utf8");
        const script = source
          .replace('API_BASE = "https://api.wanmodel.com"', `API_BASE = "${mesh.baseUrl}"`)
          .replace('ACCESS_KEY = "your_access_key_here"', `ACCESS_KEY = "${owner.key}"`);
        assert.notEqual(script, source);
        const file = join(await mkdtemp(join(tmpdir(), "t2v-rest-client-")), "client.py");
        await writeFile(file, script);
        const { stdout } = await run("python3", [file], { timeout: 240_000 });
        const link = /生成完成!下载链接: (\S+)/.exec(stdout)?.[1];
        assert.ok(link, stdout);
        const res = await fetch(link);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "video/mp4");
      });

      it("reports states in the words of the original article's client, and errors as 4xx JSON", async () => {
        const h = { ...bearer(owner.key), "content-type": "application/json" };
        const status = await fetch(`${mesh.baseUrl}/v1/t2v/status?task_id=${done.taskId}`, { headers: h });
        const s = (await status.json()) as Record<string, unknown>;
        assert.equal(s.status, "completed");
        assert.equal(s.progress, 1);
        assert.equal(s.result_url, done.resultUrl);
        assert.equal(s.error_message, null);
        for (const [body, code] of [
          ["{", 400],
          ['{"prompt":""}', 400],
          ['{"prompt":"x","duration":11}', 400],
          ['{"prompt":"x","resolution":"1080p"}', 400],
          ['{"prompt":"x","style":"dreamy"}', 400],
        ] as const) {
          const r = await fetch(`${mesh.baseUrl}/v1/t2v/generate`, { method: "POST", headers: h, body });
          assert.equal(r.status, code, body);
          assert.equal(typeof ((await r.json()) as { detail?: unknown }).detail, "string");
        }
        assert.equal((await fetch(`${mesh.baseUrl}/v1/t2v/status`, { headers: h })).status, 400);
        assert.equal((await fetch(`${mesh.baseUrl}/v1/t2v/generate`, { headers: h })).status, 405);
      });
    });
  });
}
