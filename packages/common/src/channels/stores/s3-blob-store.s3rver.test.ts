// The S3 result store against a real S3-protocol server (s3rver) on loopback, never a mock of the SDK. Where a
// test needs the server to misbehave (a lost connection, a wrong size), a small HTTP proxy sits between the
// SDK and s3rver and changes what goes over the wire.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { createS3ClientFromEnv, s3ClientConfig } from "./result-store-config.js";
import { createS3BlobStore, type S3BlobStore, StoreVerificationError, type UploadReport } from "./s3-blob-store.js";

const run = promisify(execFile);
const BUCKET = "t2v-results";
const MiB = 1024 * 1024;

let dir: string;
let server: S3rver;
let endpoint: string;
let client: S3Client;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "s3rver-"));
  server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: [{ name: BUCKET }],
  });
  const addr = await server.run();
  endpoint = `http://127.0.0.1:${addr.port}`;
  // The SDK is left to read these itself, as in production: this is what shows it honours AWS_ENDPOINT_URL_S3.
  process.env.AWS_ENDPOINT_URL_S3 = endpoint;
  process.env.AWS_REGION = "us-east-1";
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  delete process.env.AWS_PROFILE;
  client = createS3ClientFromEnv({ ...process.env, S3_FORCE_PATH_STYLE: "true", S3_MAX_ATTEMPTS: "3" });
});

after(async () => {
  client.destroy();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function store(
  extra: Partial<Parameters<typeof createS3BlobStore>[0]> = {},
): S3BlobStore & { reports: UploadReport[] } {
  const reports: UploadReport[] = [];
  const s = createS3BlobStore({
    client,
    bucket: BUCKET,
    prefix: "videos",
    onUpload: (r) => reports.push(r),
    ...extra,
  });
  return Object.assign(s, { reports });
}

/** Deterministic, incompressible-looking bytes. */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A ReadableStream handing out `data` in small, uneven chunks, as ffmpeg's stdout would. */
function streamOf(data: Uint8Array, chunk = 300_001): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= data.byteLength) return c.close();
      c.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const digest = (b: Uint8Array): string => `SHA-256=${createHash("sha256").update(b).digest("base64url")}`;

describe("S3 blob store on s3rver", () => {
  it("puts a small byte array with one PutObject, verified by reading it back, and gets, streams, deletes it", async () => {
    const s = store();
    const data = bytes(100_000);
    const info = await s.put("t1.jpg", data);
    assert.deepEqual(info, { size: data.byteLength, digest: digest(data) });
    assert.equal(s.reports[0]?.parts, 1);
    // s3rver reports no x-amz-checksum-sha256, so the store hashes what the server returns.
    assert.equal(s.reports[0]?.verification, "read-back");
    assert.equal(s.key("t1.jpg"), "videos/t1.jpg");

    assert.deepEqual(await s.info("t1.jpg"), info, "info() reads the same digest back from x-amz-meta-sha256");
    assert.equal(sha256((await s.get("t1.jpg")) ?? new Uint8Array()), sha256(data));
    const streamed = await s.stream("t1.jpg");
    assert.ok(streamed);
    const h = createHash("sha256");
    for await (const c of streamed) h.update(c);
    assert.equal(h.digest("hex"), sha256(data));

    await s.delete("t1.jpg");
    await s.delete("t1.jpg"); // idempotent
    assert.equal(await s.info("t1.jpg"), null);
    assert.equal(await s.get("t1.jpg"), null);
    assert.equal(await s.stream("t1.jpg"), null);
  });

  it("uploads a 20 MB stream in 8 MiB parts and streams it back in chunks", async () => {
    const s = store();
    const data = bytes(20 * 1000 * 1000, 7);
    const info = await s.put("t2.mp4", streamOf(data));
    assert.deepEqual(info, { size: data.byteLength, digest: digest(data) });
    assert.equal(s.reports[0]?.parts, 3);
    assert.equal(s.reports[0]?.verification, "read-back");

    const got = await s.info("t2.mp4");
    assert.equal(got?.size, data.byteLength);
    const streamed = await s.stream("t2.mp4");
    assert.ok(streamed);
    let chunks = 0;
    let largest = 0;
    const h = createHash("sha256");
    for await (const c of streamed) {
      chunks++;
      largest = Math.max(largest, c.byteLength);
      h.update(c);
    }
    assert.equal(h.digest("hex"), sha256(data));
    assert.ok(chunks > 10 && largest < 1 * MiB, `${chunks} chunks, largest ${largest} bytes: not buffered whole`);

    // A large byte array goes multipart too, and keeps its digest as metadata.
    const big = bytes(9 * MiB, 3);
    assert.deepEqual(await s.put("t2b.mp4", big), { size: big.byteLength, digest: digest(big) });
    assert.equal(s.reports[1]?.parts, 2);
    assert.equal((await s.info("t2b.mp4"))?.digest, digest(big));
  });

  it("stores empty bodies, from a byte array and from a stream", async () => {
    const s = store();
    const empty = new Uint8Array();
    assert.deepEqual(await s.put("e1.jpg", empty), { size: 0, digest: digest(empty) });
    assert.deepEqual(await s.put("e2.jpg", streamOf(empty)), { size: 0, digest: digest(empty) });
    assert.equal((await s.get("e2.jpg"))?.byteLength, 0);
  });

  it("hands out presigned GET links that download with the right type, answer Range, and play", async () => {
    const s = store();
    const mp4 = join(dir, "clip.mp4");
    // A real H.264 MP4 so "plays" means ffprobe decoding it over HTTP from the link.
    await run("ffmpeg", [
      ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x96:rate=24:duration=1"],
      ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-y", mp4],
    ]);
    const data = new Uint8Array(await readFile(mp4));
    await s.put("t3.mp4", data);

    const url = await s.presignGet("t3.mp4", 600, { contentType: "video/mp4", filename: "walk 漫步.mp4" });
    const u = new URL(url);
    assert.equal(u.origin, endpoint, "the link points at the store itself, not at the gateway");
    assert.equal(u.searchParams.get("X-Amz-Expires"), "600");

    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "video/mp4");
    assert.match(
      res.headers.get("content-disposition") ?? "",
      /^inline; filename="walk __\.mp4"; filename\*=UTF-8''walk%20/,
    );
    assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(data));

    const part = await fetch(url, { headers: { Range: "bytes=0-99" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 0-99/${data.byteLength}`);
    assert.equal((await part.arrayBuffer()).byteLength, 100);

    const probe = await run("ffprobe", [
      ...["-v", "error", "-count_frames", "-select_streams", "v:0"],
      ...["-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "json", url],
    ]);
    const stream = (JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams[0];
    assert.deepEqual(stream, { codec_name: "h264", width: 160, height: 96, nb_read_frames: "24" });
  });

  it("caps link expiry at 7 days, and s3rver refuses a link once it has expired", async () => {
    const s = store();
    await s.put("t4.jpg", bytes(1000));
    const long = new URL(await s.presignGet("t4.jpg", 30 * 24 * 3600, { contentType: "image/jpeg" }));
    assert.equal(long.searchParams.get("X-Amz-Expires"), "604800");
    assert.equal((await fetch(long)).status, 200);

    const short = await s.presignGet("t4.jpg", 1, { contentType: "image/jpeg" });
    assert.equal((await fetch(short)).status, 200);
    await new Promise((r) => setTimeout(r, 2100));
    const res = await fetch(short);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Request has expired/);
  });

  it("deletes a task's video and poster (DeleteTask) and their links stop working", async () => {
    const s = store();
    await s.put("0190aaaa-task.mp4", bytes(2000, 5));
    await s.put("0190aaaa-task.jpg", bytes(300, 6));
    await s.put("0190bbbb-other.mp4", bytes(200, 8));
    const link = await s.presignGet("0190aaaa-task.mp4", 600, { contentType: "video/mp4" });
    assert.equal(await s.deleteByPrefix("0190aaaa-task."), 2);
    assert.equal(await s.info("0190aaaa-task.mp4"), null);
    assert.equal(await s.info("0190aaaa-task.jpg"), null);
    assert.ok(await s.info("0190bbbb-other.mp4"), "another task's objects stay");
    assert.equal((await fetch(link)).status, 404);
    assert.equal(await s.deleteByPrefix("0190aaaa-task."), 0);
  });

  it("rejects an upload to a missing bucket and check() says so at start-up", async () => {
    const s = createS3BlobStore({ client, bucket: "no-such-bucket", prefix: "" });
    await assert.rejects(s.put("t5.mp4", bytes(1000)), { name: "NoSuchBucket" });
    await assert.rejects(s.put("t5.mp4", streamOf(bytes(10 * MiB))), { name: "NoSuchBucket" });
    await assert.rejects(s.check(), (err: Error) => err.name === "NotFound" || err.name === "NoSuchBucket");
    await store().check();
  });
});

describe("S3 blob store through a misbehaving proxy", () => {
  it("signs links for a separate link endpoint (S3_LINK_ENDPOINT_URL) while uploading to the internal one", async () => {
    await withProxy({}, async (publicClient) => {
      const s = store({ linkClient: publicClient });
      const data = bytes(5000, 21);
      await s.put("t12.mp4", data);
      const url = new URL(await s.presignGet("t12.mp4", 60, { contentType: "video/mp4" }));
      const pub = await publicClient.config.endpoint?.();
      assert.equal(url.port, String(pub?.port), "the link names the public endpoint");
      assert.notEqual(url.origin, endpoint);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(data));
    });
  });

  it("sends sized bodies, never aws-chunked (OSS and others refuse it), with SHA-256 checksums unless S3_CHECKSUM=off", async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    await withProxy(
      {
        drop: (req) => {
          if (req.method === "PUT") seen.push(req.headers);
          return false;
        },
      },
      async (c) => {
        await store({ client: c }).put("t13.jpg", bytes(1000));
        await store({ client: c }).put("t13.mp4", streamOf(bytes(9 * MiB)));
        await store({ client: c, checksum: "off" }).put("t14.jpg", bytes(1000));
      },
    );
    assert.equal(seen.length, 4, "one PutObject, two UploadParts, one PutObject");
    for (const h of seen) {
      assert.notEqual(h["content-encoding"], "aws-chunked");
      assert.doesNotMatch(String(h["x-amz-content-sha256"]), /STREAMING/);
      assert.ok(Number(h["content-length"]) > 0);
    }
    assert.ok(seen.slice(0, 3).every((h) => typeof h["x-amz-checksum-sha256"] === "string"));
    assert.equal(seen[3]?.["x-amz-checksum-sha256"], undefined);
  });

  it("retries a dropped part with the SDK's retry strategy", async () => {
    let dropped = 0;
    await withProxy(
      {
        drop: (req) => {
          if (dropped === 0 && req.method === "PUT" && req.url?.includes("partNumber=2")) {
            dropped++;
            return true;
          }
          return false;
        },
      },
      async (c) => {
        const s = store({ client: c });
        const data = bytes(17 * MiB, 9);
        assert.deepEqual(await s.put("t6.mp4", streamOf(data)), { size: data.byteLength, digest: digest(data) });
        assert.equal(dropped, 1);
      },
    );
  });

  it("fails an upload whose connection keeps dying mid-way, and leaves no object behind", async () => {
    let drops = 0;
    await withProxy(
      {
        drop: (req) => {
          const lost = req.method === "PUT" && (req.url?.includes("partNumber=2") ?? false);
          if (lost) drops++;
          return lost;
        },
      },
      async (c) => {
        const s = store({ client: c });
        // The part's own error, not the AbortMultipartUpload that s3rver refuses (MethodNotAllowed).
        await assert.rejects(s.put("t7.mp4", streamOf(bytes(20 * MiB, 2))), (err: Error) => {
          assert.match(`${err.name} ${err.message} ${(err as { code?: string }).code}`, /ECONNRESET|EPIPE|socket/i);
          return true;
        });
        assert.equal(drops, 3, "S3_MAX_ATTEMPTS=3 tries of the part");
      },
    );
    assert.equal(await store().info("t7.mp4"), null, "nothing that reads as complete");
  });

  it("fails an upload when the server goes away mid-way, and leaves no object behind", async () => {
    const gone = { kill: (): void => undefined };
    await withProxy(
      {
        drop: (req) => {
          if (req.method !== "PUT" || !(req.url?.includes("partNumber=2") ?? false)) return false;
          gone.kill();
          return true;
        },
      },
      async (c, proxy) => {
        gone.kill = proxy.kill;
        const s = store({ client: c });
        await assert.rejects(s.put("t7b.mp4", streamOf(bytes(20 * MiB, 13))), (err: Error) => {
          assert.match(
            `${err.name} ${err.message} ${(err as { code?: string }).code}`,
            /ECONNREFUSED|ECONNRESET|socket/i,
          );
          return true;
        });
      },
    );
    assert.equal(await store().info("t7b.mp4"), null, "nothing that reads as complete");
  });

  it("cuts a connection that goes silent mid-upload (S3_IDLE_TIMEOUT_MS), retries, then fails", async () => {
    let stalls = 0;
    await withProxy(
      {
        // Takes the part and never answers, like a wedged load balancer.
        stall: (req) => {
          const hit = req.method === "PUT" && (req.url?.includes("partNumber=2") ?? false);
          if (hit) stalls++;
          return hit;
        },
      },
      async (c) => {
        const s = store({ client: c });
        const started = Date.now();
        await assert.rejects(s.put("t15.mp4", streamOf(bytes(17 * MiB, 15))), { name: "TimeoutError" });
        assert.equal(stalls, 3, "each of the 3 attempts cut after the idle timeout");
        assert.ok(Date.now() - started < 20_000);
      },
      { s3IdleTimeoutMs: 1_000 },
    );
    assert.equal(await store().info("t15.mp4"), null);
  });

  it("catches a size mismatch after upload, retries once, then fails and deletes the object", async () => {
    let heads = 0;
    await withProxy(
      {
        headers: (req, h) => {
          if (req.method !== "HEAD") return;
          heads++;
          h["content-length"] = String(Number(h["content-length"]) + 1);
        },
      },
      async (c) => {
        const s = store({ client: c });
        await assert.rejects(
          s.put("t8.mp4", bytes(5000)),
          (err: unknown) => err instanceof StoreVerificationError && err.reason === "size",
        );
        assert.equal(heads, 2, "verified twice: the first upload and its one retry");
        await assert.rejects(
          s.put("t8s.mp4", streamOf(bytes(9 * MiB))),
          (err: unknown) => err instanceof StoreVerificationError && err.reason === "size",
        );
      },
    );
    assert.equal(await store().info("t8.mp4"), null);
    assert.equal(await store().info("t8s.mp4"), null);
  });

  it("redoes the whole upload once when only the first verification fails", async () => {
    let heads = 0;
    await withProxy(
      {
        headers: (req, h) => {
          if (req.method === "HEAD" && heads++ === 0) h["content-length"] = "1";
        },
      },
      async (c) => {
        const s = store({ client: c });
        const data = bytes(4000, 4);
        assert.deepEqual(await s.put("t9.jpg", data), { size: data.byteLength, digest: digest(data) });
        assert.equal(s.reports[0]?.attempts, 2);
      },
    );
  });

  it("compares a server-reported SHA-256, whole or composite (multipart), and refuses a wrong one", async () => {
    const data = bytes(17 * MiB, 11);
    const parts = [data.subarray(0, 8 * MiB), data.subarray(8 * MiB, 16 * MiB), data.subarray(16 * MiB)];
    const composite = createHash("sha256");
    for (const p of parts) composite.update(createHash("sha256").update(p).digest());
    const small = bytes(1000, 12);
    // What AWS S3 sends on HeadObject with x-amz-checksum-mode: ENABLED, which s3rver lacks.
    let report: string | null = null;
    await withProxy(
      {
        headers: (req, h) => {
          if (req.method === "HEAD" && report !== null) h["x-amz-checksum-sha256"] = report;
        },
      },
      async (c) => {
        const s = store({ client: c });
        report = `${composite.digest("base64")}-3`;
        await s.put("t10.mp4", streamOf(data));
        report = createHash("sha256").update(small).digest("base64");
        await s.put("t10.jpg", small);
        assert.deepEqual(
          s.reports.map((r) => r.verification),
          ["server-checksum", "server-checksum"],
        );
        report = createHash("sha256").update("something else").digest("base64");
        await assert.rejects(
          s.put("t11.jpg", small),
          (err: unknown) => err instanceof StoreVerificationError && err.reason === "checksum",
        );
      },
    );
    assert.equal(await store().info("t11.jpg"), null);
  });
});

interface ProxyHooks {
  /** Destroy the connection instead of forwarding this request. */
  drop?: (req: http.IncomingMessage) => boolean;
  /** Read the request and never answer. */
  stall?: (req: http.IncomingMessage) => boolean;
  /** Rewrite the upstream response's headers before they go back to the SDK. */
  headers?: (req: http.IncomingMessage, h: http.IncomingHttpHeaders) => void;
}

/** Runs `body` with an S3 client whose requests go through a proxy to s3rver. */
async function withProxy(
  hooks: ProxyHooks,
  body: (c: S3Client, proxy: { kill(): void }) => Promise<void>,
  clientConfig: { s3IdleTimeoutMs?: number } = {},
): Promise<void> {
  const upstream = new URL(endpoint);
  const proxy = http.createServer((req, res) => {
    if (hooks.drop?.(req)) {
      req.socket.destroy();
      return;
    }
    if (hooks.stall?.(req)) {
      req.resume();
      return;
    }
    const up = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (r) => {
        const h = { ...r.headers };
        hooks.headers?.(req, h);
        res.writeHead(r.statusCode ?? 502, h);
        r.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    // A cut client connection cuts the upstream one too, or s3rver would wait on a half-sent body forever.
    res.on("close", () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const c = new S3Client({
    ...s3ClientConfig({
      s3ForcePathStyle: true,
      s3MaxAttempts: 3,
      s3IdleTimeoutMs: clientConfig.s3IdleTimeoutMs ?? 60_000,
    }),
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
  });
  // The server going away: no more connections accepted, those open are cut.
  const closed = new Promise<void>((r) => proxy.once("close", () => r()));
  const kill = (): void => {
    if (proxy.listening) proxy.close();
    proxy.closeAllConnections();
  };
  try {
    await body(c, { kill });
  } finally {
    c.destroy();
    // close() on a server that is already closed never calls back, so wait for its one "close" event.
    kill();
    await closed;
  }
}
