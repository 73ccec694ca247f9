import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import fc from "fast-check";
import { bearer } from "../../support/auth.js";
import { meshFuzzRuns } from "../../support/fuzz-runs.js";
import { connectClient } from "../../support/gateway-clients.js";
import { ALL_SERVICES, type TestKey, type TestMesh } from "../../support/mesh.js";
import { grpcFrame, rawGrpcCall } from "../../support/raw-grpc.js";

const METHODS = ["CreateTask", "GetTask", "CancelTask", "ListTasks", "WatchTask"];
const FIELDS = [
  "prompt",
  "negative_prompt",
  "negativePrompt",
  "resolution",
  "duration",
  "frame_rate",
  "frameRate",
  "style",
  "seed",
  "idempotency_key",
  "webhook_url",
  "timeout",
  "task_id",
  "taskId",
  "page_size",
  "pageToken",
  "status",
];
// grpc-status values that would mean we failed, not the caller.
const SERVER_FAULTS = new Set([2, 13]);
/** Per property: 5/2 of FUZZ_RUNS (500 by default). */
const RUNS = meshFuzzRuns();

const nasty = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, 2 ** 53, -1, 0, 4_294_967_296, "NaN", "Infinity", "-Infinity", "1e999", null, true),
  fc.bigInt().map(String),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
  fc.constantFrom("480p", "720p", "cinematic", "3.5s", "https://127.0.0.1/", "01a21150-240b-710b-baf0-9f4b9745584f"),
);
const jsonBody = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), nasty, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
);
const withAuth = fc.constantFrom("good", "none", "bad");

function authHeaders(kind: string, key: string): Record<string, string> {
  if (kind === "good") return bearer(key);
  if (kind === "bad") return { authorization: "Bearer t2v_nope" };
  return {};
}

/**
 * Property-based fuzzing of every protocol the gateway's port speaks. Needs a
 * rate limit the fuzzer cannot reach (RATE_LIMIT_STANDARD=1000000/1000000).
 */
export function fuzzTests(mesh: TestMesh): void {
  describe("malformed input never yields INTERNAL or a 5xx", () => {
    let fuzz: TestKey;
    let h2: http2.ClientHttp2Session;

    before(async () => {
      fuzz = await mesh.createKey("fuzz");
      h2 = http2.connect(mesh.baseUrl);
    });

    after(async () => {
      h2?.close();
      // Whatever the fuzzer got queued is cancelled, so the workers stop.
      const c = connectClient(mesh.baseUrl, fuzz.key);
      for (const t of (await c.listTasks({ pageSize: 100 }).catch(() => ({ tasks: [] }))).tasks)
        await c.cancelTask({ taskId: t.taskId }).catch(() => undefined);
    });

    it("over Connect, JSON and binary, unary and streaming", async () => {
      const format = fc.constantFrom("json", "connect+json", "proto", "connect+proto");
      const bytes = fc.uint8Array({ maxLength: 200 });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...METHODS),
          format,
          jsonBody,
          bytes,
          withAuth,
          async (m, f, json, bin, auth) => {
            const raw = f.endsWith("json") ? Buffer.from(json) : Buffer.from(bin);
            const res = await fetch(`${mesh.baseUrl}/t2v.v1.VideoService/${m}`, {
              method: "POST",
              headers: { "content-type": `application/${f}`, ...authHeaders(auth, fuzz.key) },
              body: f.startsWith("connect+") ? grpcFrame(raw) : raw,
              signal: AbortSignal.timeout(3_000),
            }).catch((e: unknown) => (String(e).includes("TimeoutError") ? null : Promise.reject(e)));
            if (!res) return;
            assert.ok(res.status < 500, `${m} ${f} ${raw.toString("hex")} -> ${res.status}`);
            const text = await res.text().catch(() => "");
            assert.ok(!/"code":"(internal|unknown)"/.test(text), `${m} ${f} ${raw.toString("hex")} -> ${text}`);
          },
        ),
        { numRuns: RUNS * 2 },
      );
    });

    it("over gRPC, with garbage Protobuf and broken framing", async () => {
      const payload = fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map(grpcFrame),
        fc.uint8Array({ maxLength: 40 }),
        fc
          .record({
            prompt: fc.string({ unit: "grapheme", maxLength: 250 }),
            duration: fc.double(),
            frameRate: fc.nat(),
            seed: fc.nat(),
          })
          .map((r) => grpcFrame(toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, r)))),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...METHODS), payload, withAuth, async (m, body, auth) => {
          const r = await rawGrpcCall(h2, `/t2v.v1.VideoService/${m}`, body, authHeaders(auth, fuzz.key));
          assert.ok(r.httpStatus < 500, `${m} -> HTTP ${r.httpStatus}`);
          assert.ok(r.grpcStatus === null || !SERVER_FAULTS.has(r.grpcStatus), `${m} -> grpc-status ${r.grpcStatus}`);
        }),
        { numRuns: RUNS },
      );
    });

    it("over the REST compatibility API", async () => {
      await fc.assert(
        fc.asyncProperty(jsonBody, fc.string({ maxLength: 60 }), withAuth, async (body, taskId, auth) => {
          const post = await fetch(`${mesh.baseUrl}/v1/t2v/generate`, {
            method: "POST",
            headers: { "content-type": "application/json", ...authHeaders(auth, fuzz.key) },
            body,
          });
          assert.ok(post.status < 500, `${body} -> ${post.status}`);
          const text = await post.text();
          assert.doesNotThrow(() => JSON.parse(text), text);
          const get = await fetch(`${mesh.baseUrl}/v1/t2v/status?task_id=${encodeURIComponent(taskId)}`, {
            headers: authHeaders(auth, fuzz.key),
          });
          assert.ok(get.status < 500, `${taskId} -> ${get.status}`);
        }),
        { numRuns: RUNS },
      );
    });

    it("with 8 MB bodies on every protocol", async () => {
      const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
      const json = `{"prompt":"${big.toString("latin1")}"}`;
      for (const [path, type] of [
        ["/t2v.v1.VideoService/CreateTask", "application/json"],
        ["/v1/t2v/generate", "application/json"],
      ]) {
        const res = await fetch(`${mesh.baseUrl}${path}`, {
          method: "POST",
          headers: { "content-type": type ?? "", ...bearer(fuzz.key) },
          body: json,
        }).catch(() => null);
        // The server may also cut the upload short; it must not answer 5xx.
        if (res) assert.ok(res.status >= 400 && res.status < 500, `${path} -> ${res.status}`);
      }
      const r = await rawGrpcCall(h2, "/t2v.v1.VideoService/CreateTask", grpcFrame(big), bearer(fuzz.key), 10_000);
      assert.ok(
        r.grpcStatus !== null && !SERVER_FAULTS.has(r.grpcStatus) && r.grpcStatus !== 0,
        `grpc-status ${r.grpcStatus}`,
      );
    });

    it("leaves every service running and serving", async () => {
      for (const s of ALL_SERVICES) assert.equal(mesh.process(s).exitCode, null, `${s} exited:\n${mesh.logs(s)}`);
      const c = connectClient(mesh.baseUrl, fuzz.key);
      const t = await c.createTask({ prompt: "still here", resolution: "480p", duration: 3 });
      assert.equal(t.status, TaskStatus.QUEUED);
      await c.cancelTask({ taskId: t.taskId });
    });
  });
}
