import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectAuth } from "../../support/auth.js";
import { probeVideo } from "../../support/ffprobe.js";
import { followToEnd } from "../../support/follow-task.js";
import { connectClient } from "../../support/gateway-clients.js";
import { grpcVideoClient } from "../../support/grpc-video-client.js";
import type { TestMesh } from "../../support/mesh.js";

async function download(url: string, name: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "video/mp4");
  const file = join(tmpdir(), name);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

/** Whole generations through all four services, over grpc-js, Connect and Connect's gRPC. */
export function generationTests(mesh: TestMesh): void {
  describe("one generation through all four services", () => {
    it("runs over @grpc/grpc-js: create, WatchTask stream to completed, H.264 of the right shape", async () => {
      const grpcClient = grpcVideoClient(`127.0.0.1:${mesh.port}`, mesh.apiKey);
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
      const connect = connectClient(mesh.baseUrl, mesh.apiKey);
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
}
