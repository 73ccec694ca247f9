// Results in S3-compatible storage against the whole mesh: s3rver (a real S3 server, in this test process on
// loopback) holds videos and posters; RESULT_STORE points every service at it. Tests run in order on one task.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ResultState, type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import S3rver from "s3rver";
import { probeVideo } from "../support/ffprobe.js";
import { followToEnd } from "../support/follow-task.js";
import { freePort } from "../support/free-port.js";
import { connectClient } from "../support/gateway-clients.js";
import { useMesh } from "../support/use-mesh.js";
import { waitUntil } from "../support/wait.js";

const BUCKET = "t2v-results";
const PREFIX = "e2e/";
/** Short, so a link's expiry is seen within the test. */
const LINK_TTL_SECONDS = 3;

const s3 = {
  dir: "",
  port: 0,
  server: undefined as S3rver | undefined,
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  },
  async start(): Promise<void> {
    this.dir ||= await mkdtemp(join(tmpdir(), "s3rver-e2e-"));
    this.port ||= await freePort();
    this.server = new S3rver({
      address: "127.0.0.1",
      port: this.port,
      directory: this.dir,
      silent: true,
      configureBuckets: [{ name: BUCKET }],
    });
    await this.server.run();
  },
  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  },
};

const mesh = useMesh(async () => {
  await s3.start();
  return {
    env: {
      RESULT_STORE: `s3://${BUCKET}/${PREFIX}`,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      S3_FORCE_PATH_STYLE: "true",
      S3_MAX_ATTEMPTS: "2",
      RESULT_URL_TTL_SECONDS: String(LINK_TTL_SECONDS),
    },
  };
});

after(async () => {
  await s3.stop();
  if (s3.dir) await rm(s3.dir, { recursive: true, force: true });
});

async function downloadMp4(url: string, name: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  assert.equal(res.headers.get("content-type"), "video/mp4");
  const file = join(tmpdir(), name);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

describe("results in S3 (s3rver on loopback, whole mesh)", () => {
  let done: Task | undefined;
  const client = () => connectClient(mesh.baseUrl, mesh.apiKey);

  it("stores the video in S3: result_url is a presigned link of the store that downloads a playable MP4", async () => {
    const created = await client().createTask({
      prompt: "a paper boat on a rain puddle",
      resolution: "480p",
      duration: 3,
    });
    const seen = await followToEnd(client().watchTask({ taskId: created.taskId }));
    done = seen.at(-1);
    assert.equal(done?.status, TaskStatus.COMPLETED, done?.errorMessage);
    // Read fresh: the link must still be good when we fetch it.
    const t = await client().getTask({ taskId: created.taskId });
    assert.equal(t.resultState, ResultState.AVAILABLE);
    const url = new URL(t.resultUrl);
    assert.equal(url.origin, s3.endpoint, "the link points at the store, not the gateway");
    assert.equal(url.pathname, `/${BUCKET}/${PREFIX}${t.taskId}.mp4`);
    assert.equal(url.searchParams.get("X-Amz-Expires"), String(LINK_TTL_SECONDS));
    assert.equal(new URL(t.posterUrl).pathname, `/${BUCKET}/${PREFIX}${t.taskId}.jpg`);
    const facts = await probeVideo(await downloadMp4(t.resultUrl, `${t.taskId}-s3.mp4`));
    assert.deepEqual(facts, {
      codec: "h264",
      width: 832,
      height: 480,
      frames: 72,
      frameRate: "24/1",
      pixFmt: "yuv420p",
    });
    const poster = await fetch(t.posterUrl);
    assert.equal(poster.status, 200);
    assert.equal(poster.headers.get("content-type"), "image/jpeg");
    assert.ok(t.resultExpireTime && t.expireTime, "link and result expiry are reported");
  });

  it("a link that expired answers 403, and reading the task again gives a fresh one that works", async () => {
    assert.ok(done);
    const stale = (await client().getTask({ taskId: done.taskId })).resultUrl;
    assert.equal((await fetch(stale)).status, 200);
    await waitUntil(
      async () => (await fetch(stale)).status,
      (status) => status === 403,
      { timeoutMs: (LINK_TTL_SECONDS + 5) * 1000, everyMs: 500, what: "s3rver to refuse the expired link" },
    );
    const fresh = await client().getTask({ taskId: done.taskId });
    assert.notEqual(fresh.resultUrl, stale);
    const res = await fetch(fresh.resultUrl);
    assert.equal(res.status, 200);
    assert.ok((await res.arrayBuffer()).byteLength > 1000);
  });

  it("DeleteTask removes video and poster from the bucket (links 404), and the task reads DELETED", async () => {
    assert.ok(done);
    const before = await client().getTask({ taskId: done.taskId });
    const deleted = await client().deleteTask({ taskId: done.taskId });
    assert.equal(deleted.resultState, ResultState.DELETED);
    assert.equal(deleted.resultUrl, "");
    assert.equal(deleted.posterUrl, "");
    assert.equal((await fetch(before.resultUrl)).status, 404);
    assert.equal((await fetch(before.posterUrl)).status, 404);
    const again = await client().getTask({ taskId: done.taskId });
    assert.equal(again.resultState, ResultState.DELETED);
    assert.equal(again.resultUrl, "");
    assert.equal((await client().deleteTask({ taskId: done.taskId })).resultState, ResultState.DELETED);
  });

  it("never completes a task whose upload fails (store down), and completes it once the store is back", async () => {
    const created = await client().createTask({ prompt: "a kite over a windy beach", resolution: "480p", duration: 3 });
    // Down before the encoder gets there: every put fails until it is back.
    await s3.stop();
    await waitUntil(
      () => client().getTask({ taskId: created.taskId }),
      (t) => t.status === TaskStatus.ENCODING,
      { timeoutMs: 120_000, what: "the task to reach ENCODING", show: (t) => TaskStatus[t.status] ?? "?" },
    );
    await waitUntil(
      async () => mesh.logs("encoder"),
      (logs) => /write failed; retrying with backoff/.test(logs),
      { timeoutMs: 60_000, what: "a failed upload", show: () => "no failed write logged" },
    );
    const during = await client().getTask({ taskId: created.taskId });
    assert.notEqual(during.status, TaskStatus.COMPLETED, "completed without its video");
    assert.equal(during.resultUrl, "");

    await s3.start();
    const t = await waitUntil(
      () => client().getTask({ taskId: created.taskId }),
      (x) => x.status === TaskStatus.COMPLETED || x.status === TaskStatus.FAILED,
      { timeoutMs: 180_000, what: "the task to end", show: (x) => TaskStatus[x.status] ?? "?" },
    );
    assert.equal(t.status, TaskStatus.COMPLETED, t.errorMessage);
    const res = await fetch(t.resultUrl);
    assert.equal(res.status, 200);
  });
});
