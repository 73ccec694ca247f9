// Prompt debugging and reproducibility (issue #15) against the whole mesh: a
// drawn seed reproduces the video frame for frame, the effective request and
// the stage timings come back from real workers, and previews come only when
// asked. Everything that does not need the model is tested in process
// (services/gateway, services/scheduler, services/inference).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { type Task, type TaskEvent, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectClient } from "../support/gateway-clients.js";
import { useMesh } from "../support/use-mesh.js";

const run = promisify(execFile);
const mesh = useMesh();

/** ffmpeg's MD5 of every decoded frame, without the header lines (which name the file). */
async function framemd5(url: string, name: string): Promise<string[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const file = join(tmpdir(), `${name}.mp4`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  const { stdout } = await run("ffmpeg", ["-v", "error", "-i", file, "-f", "framemd5", "-"]);
  return stdout.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

async function watchToEnd(taskId: string): Promise<TaskEvent[]> {
  const events: TaskEvent[] = [];
  for await (const ev of connectClient(mesh.baseUrl, mesh.apiKey).watchTask({ taskId })) events.push(ev);
  return events;
}

const secondsOf = (d: { seconds: bigint; nanos: number } | undefined) => (d ? Number(d.seconds) + d.nanos / 1e9 : 0);

describe("prompt debugging against the mesh", () => {
  const request = { prompt: "a paper boat on a rainy street", resolution: "480p", duration: 3, style: "cinematic" };
  /** The first render, for the effective-request test. */
  let done: Task | undefined;

  it("reproduces a video from the seed the service drew, frame for frame", async () => {
    const client = connectClient(mesh.baseUrl, mesh.apiKey);
    const first = await client.createTask(request);
    assert.equal(first.params?.seedExplicit, false);
    const events = await watchToEnd(first.taskId);
    const t = events.at(-1)?.task as Task;
    assert.equal(t.status, TaskStatus.COMPLETED, t.errorMessage);
    done = t;
    assert.equal(
      events.some((e) => e.preview),
      false,
      "no previews unless asked",
    );

    const again = await client.createTask({ ...request, seed: t.params?.seed ?? 0 });
    const last = (await watchToEnd(again.taskId)).at(-1)?.task as Task;
    assert.equal(last.status, TaskStatus.COMPLETED, last.errorMessage);
    assert.equal(last.cacheHit, false, "rendered again, not served from the cache");
    const [a, b] = await Promise.all([framemd5(t.resultUrl, first.taskId), framemd5(last.resultUrl, again.taskId)]);
    assert.equal(a.length, 72, "every frame hashed");
    assert.deepEqual(b, a, "same seed, same video");
  });

  it("sends real previews, JPEGs of at most 64 KiB, when asked", async () => {
    const client = connectClient(mesh.baseUrl, mesh.apiKey);
    const task = await client.createTask({ ...request, seed: 5, previewEverySteps: 2 });
    const events = await watchToEnd(task.taskId);
    assert.equal(events.at(-1)?.task?.status, TaskStatus.COMPLETED);
    const previews = events.flatMap((e) => (e.preview ? [e.preview] : []));
    assert.ok(previews.length > 0, "previews came");
    for (const p of previews) {
      assert.equal(p.mimeType, "image/jpeg");
      assert.ok(p.image.length > 0 && p.image.length <= 64 * 1024);
      assert.deepEqual([p.image[0], p.image[1]], [0xff, 0xd8], "a JPEG");
      assert.equal(p.step % 2, 0, "every preview_every_steps steps");
      assert.ok(p.width > 0 && p.height > 0);
    }
  });

  it("reports the effective request, the stage timings and the cost of a real render", () => {
    assert.ok(done, "the first test rendered it");
    const p = done.params;
    assert.ok(p);
    assert.match(p.effectivePrompt, /^a paper boat on a rainy street, cinematic lighting/);
    assert.ok(p.model !== "" && p.modelVersion !== "", "model and version");
    assert.ok(p.steps > 0 && p.shift > 0 && p.guidanceScale > 0 && p.expertBoundary > 0, "sampler settings");
    const t = done.timings;
    assert.ok(t);
    for (const stage of ["queueWait", "denoise", "decode", "encode", "upload"] as const)
      assert.ok(secondsOf(t[stage]) > 0, `${stage} timed`);
    assert.ok(t.textEncode !== undefined, "text encoding timed");
    assert.ok(done.gpuSeconds > 0, "billed accelerator seconds");
    assert.ok(done.estimatedGpuSeconds > 0, "estimated before it ran");
  });
});
