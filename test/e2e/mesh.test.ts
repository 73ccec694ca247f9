import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { BadRequestSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { type Task, TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectAuth } from "../support/auth.js";
import { probeVideo } from "../support/ffprobe.js";
import { grpcVideoClient } from "../support/grpc-video-client.js";
import { startMesh, type TestMesh } from "../support/mesh.js";
import { startNats, type TestNats } from "../support/nats-server.js";

let nats: TestNats;
let mesh: TestMesh;
let connect: Client<typeof VideoService>;

before(async () => {
  nats = await startNats();
  mesh = await startMesh(nats.url);
  connect = createClient(
    VideoService,
    createConnectTransport({ baseUrl: mesh.baseUrl, httpVersion: "1.1", interceptors: [connectAuth(mesh.apiKey)] }),
  );
});

after(async () => {
  await mesh?.stop();
  await nats?.stop();
});

/** Follows a task's events until the stream ends, checking progress never goes down. */
async function followToEnd(events: AsyncIterable<{ task?: Task | undefined }>): Promise<Task[]> {
  const seen: Task[] = [];
  for await (const ev of events) if (ev.task) seen.push(ev.task);
  for (let i = 1; i < seen.length; i++) {
    assert.ok((seen[i]?.progress ?? 0) >= (seen[i - 1]?.progress ?? 0), "progress went down");
  }
  return seen;
}

async function download(url: string, name: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "video/mp4");
  const file = join(tmpdir(), name);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

describe("one generation through all four services", () => {
  it("runs over @grpc/grpc-js: create, WatchTask stream to completed, H.264 of the right shape", async () => {
    const grpcClient = grpcVideoClient(`127.0.0.1:${mesh.port}`);
    try {
      const created = await grpcClient.createTask({
        prompt: "一只金毛犬在雪地里追逐飞盘",
        resolution: "480p",
        duration: 3,
        seed: 11,
      });
      assert.equal(created.status, TaskStatus.QUEUED);
      assert.match(created.taskId, /^[0-9a-f-]{36}$/);
      assert.equal(created.params?.negativePrompt.includes("blurry"), true, "default negative prompt applied");
      const seen = await followToEnd(grpcClient.watchTask(created.taskId));
      const last = seen.at(-1);
      assert.equal(last?.status, TaskStatus.COMPLETED, last?.errorMessage);
      assert.equal(last?.progress, 1);
      assert.ok(
        seen.some((t) => t.status === TaskStatus.PROCESSING && t.currentStep > 0),
        "saw denoising steps",
      );
      assert.ok(
        seen.some((t) => t.status === TaskStatus.ENCODING),
        "saw encoding",
      );
      const facts = await probeVideo(await download(last?.resultUrl ?? "", `${created.taskId}.mp4`));
      assert.deepEqual(facts, {
        codec: "h264",
        width: 832,
        height: 480,
        frames: 72,
        frameRate: "24/1",
        pixFmt: "yuv420p",
      });
    } finally {
      grpcClient.close();
    }
  });

  it("runs over Connect with another frame rate and duration", async () => {
    const created = await connect.createTask({
      prompt: "a red fox running through snow",
      resolution: "480p",
      duration: 4,
      frameRate: 16,
    });
    assert.equal(created.params?.seedExplicit, false);
    const seen = await followToEnd(connect.watchTask({ taskId: created.taskId }));
    const last = seen.at(-1);
    assert.equal(last?.status, TaskStatus.COMPLETED, last?.errorMessage);
    const facts = await probeVideo(await download(last?.resultUrl ?? "", `${created.taskId}.mp4`));
    assert.equal(facts.frames, 64);
    assert.equal(facts.frameRate, "16/1");
    assert.equal(facts.codec, "h264");

    // The same task over gRPC (Connect's own gRPC transport) and plain GetTask.
    const grpcConnect = createClient(
      VideoService,
      createGrpcTransport({ baseUrl: mesh.baseUrl, interceptors: [connectAuth(mesh.apiKey)] }),
    );
    const again = await grpcConnect.getTask({ taskId: created.taskId });
    assert.equal(again.status, TaskStatus.COMPLETED);
    assert.equal(again.resultUrl, last?.resultUrl);

    // Range and HEAD on the download.
    const head = await fetch(again.resultUrl, { method: "HEAD" });
    const size = Number(head.headers.get("content-length"));
    assert.ok(size > 1000);
    const part = await fetch(again.resultUrl, { headers: { range: "bytes=0-99" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 0-99/${size}`);
    assert.equal((await part.arrayBuffer()).byteLength, 100);
  });
});

describe("validation at the edge", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["empty prompt", { prompt: "" }, "prompt"],
    ["blank prompt", { prompt: "   " }, "prompt"],
    ["prompt over 200 characters", { prompt: "x".repeat(201) }, "prompt"],
    ["duration below 3.0", { prompt: "x", duration: 2.9 }, "duration"],
    ["duration above 10.0", { prompt: "x", duration: 10.5 }, "duration"],
    ["resolution 1080p", { prompt: "x", resolution: "1080p" }, "resolution"],
  ];

  for (const [name, body, field] of cases) {
    it(`rejects ${name} with INVALID_ARGUMENT naming ${field} (Connect)`, async () => {
      const err = await connect.createTask(body).then(
        () => assert.fail("accepted"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.InvalidArgument);
      assert.match(err.rawMessage, new RegExp(field));
      const details = err.findDetails(BadRequestSchema);
      assert.deepEqual(
        details.flatMap((d) => d.fieldViolations.map((v) => v.field)),
        [field],
      );
    });

    it(`rejects ${name} with INVALID_ARGUMENT naming ${field} (grpc-js)`, async () => {
      const c = grpcVideoClient(`127.0.0.1:${mesh.port}`);
      try {
        const err = (await c.createTask(body).then(
          () => assert.fail("accepted"),
          (e: unknown) => e,
        )) as grpc.ServiceError;
        assert.equal(err.code, 3); // INVALID_ARGUMENT
        assert.match(err.details, new RegExp(field));
      } finally {
        c.close();
      }
    });
  }

  it("accepts 200 Chinese characters", async () => {
    const t = await connect.createTask({ prompt: "樱".repeat(200), resolution: "480p", duration: 3 });
    assert.equal(t.status, TaskStatus.QUEUED);
    await connect.cancelTask({ taskId: t.taskId });
  });

  it("answers NOT_FOUND for unknown and malformed task ids", async () => {
    for (const id of ["01890000-0000-7000-8000-000000000000", "nope", "../../etc/passwd"]) {
      const err = await connect.getTask({ taskId: id }).then(
        () => assert.fail("found"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.NotFound, id);
    }
  });

  it("keeps every service up after bad input", async () => {
    for (const name of ["gateway", "scheduler", "inference", "encoder"] as const) {
      assert.equal(mesh.process(name).exitCode, null, `${name} exited`);
    }
    assert.equal((await fetch(`${mesh.baseUrl}/readyz`)).status, 200);
  });
});

describe("task management", () => {
  it("cancels a task and lists tasks newest first", async () => {
    const a = await connect.createTask({ prompt: "first", resolution: "480p", duration: 3 });
    const b = await connect.createTask({ prompt: "second", resolution: "480p", duration: 3 });
    const cancelled = await connect.cancelTask({ taskId: b.taskId });
    assert.equal(cancelled.status, TaskStatus.CANCELLED);
    // Cancelling again changes nothing.
    assert.equal((await connect.cancelTask({ taskId: b.taskId })).status, TaskStatus.CANCELLED);
    await connect.cancelTask({ taskId: a.taskId });

    const page1 = await connect.listTasks({ pageSize: 1 });
    assert.equal(page1.tasks[0]?.taskId, b.taskId);
    assert.notEqual(page1.nextPageToken, "");
    const page2 = await connect.listTasks({ pageSize: 1, pageToken: page1.nextPageToken });
    assert.equal(page2.tasks[0]?.taskId, a.taskId);
    const bad = await connect.listTasks({ pageToken: "garbage" }).then(
      () => assert.fail("accepted"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(bad.code, Code.InvalidArgument);
  });

  it("stops a running task within a step when cancelled", async () => {
    const t = await connect.createTask({ prompt: "a long clip", resolution: "720p", duration: 10, seed: 3 });
    for await (const ev of connect.watchTask({ taskId: t.taskId })) {
      if (ev.task?.status === TaskStatus.PROCESSING && ev.task.currentStep >= 1) {
        await connect.cancelTask({ taskId: t.taskId });
      }
    }
    const final = await connect.getTask({ taskId: t.taskId });
    assert.equal(final.status, TaskStatus.CANCELLED);
    // The worker is free again: a new task completes.
    const next = await connect.createTask({ prompt: "after cancel", resolution: "480p", duration: 3 });
    const seen = await followToEnd(connect.watchTask({ taskId: next.taskId }));
    assert.equal(seen.at(-1)?.status, TaskStatus.COMPLETED);
    assert.match(mesh.logs("inference"), /task cancelled mid-generation/);
  });
});
