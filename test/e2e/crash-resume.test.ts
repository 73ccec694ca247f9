// Crash recovery from denoising checkpoints (issue #10) against real processes: the inference
// worker is killed with SIGKILL at ~70 % of a 720p clip, a fresh one resumes the retried attempt
// from the last checkpoint, and the video is frame for frame the one an uninterrupted run makes.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { connect } from "@nats-io/transport-node";
import { type Bus, createNatsBus, openMediaStores } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { newTaskId } from "@t2v/common/task";
import { probeVideo } from "../support/ffprobe.js";
import { useMesh } from "../support/use-mesh.js";
import { waitUntil } from "../support/wait.js";

const run = promisify(execFile);

const STEPS = 40;
const FRAMES = 121; // 5 s at 24 fps
const mesh = useMesh({
  env: {
    CHECKPOINT_EVERY_STEPS: "2",
    CHECKPOINT_EVERY_SECONDS: "0",
    // The killed worker's attempt is retried once it has shown no progress for this long.
    STALL_TIMEOUT_MS: "4000",
    RECONCILE_INTERVAL_MS: "300",
    RETRY_BASE_DELAY_MS: "200",
    RETRY_MAX_DELAY_MS: "500",
    WORKER_FRESH_MS: "4000",
  },
  services: ["scheduler", "inference", "encoder"],
});

let bus: Bus | undefined;
const workDir = mkdtemp(join(tmpdir(), "t2v-crash-resume-"));
after(async () => {
  await rm(await workDir, { recursive: true, force: true });
});

/** A 720p task of `tenant` asking for STEPS steps, submitted the way the gateway does. */
async function submit(tenant: string): Promise<string> {
  const taskId = newTaskId();
  const now = timestampNow();
  await mesh.channels.tasks.create(
    create(TaskRecordSchema, {
      task: {
        taskId,
        status: TaskStatus.QUEUED,
        createTime: now,
        updateTime: now,
        attempt: 1,
        tier: "standard",
        params: {
          prompt: "a lighthouse in a storm at dusk",
          negativePrompt: "blurry",
          resolution: "720p",
          width: 1280,
          height: 720,
          duration: FRAMES / 24,
          frameRate: 24,
          numFrames: FRAMES,
          seed: 4242,
          seedExplicit: true,
        },
      },
      tenantId: tenant,
      pool: "standard",
      requestedSteps: STEPS,
    }),
  );
  await mesh.channels.submissions.submit({ taskId, tenantId: tenant, pool: "standard" });
  return taskId;
}

async function completes(taskId: string): Promise<TaskRecord> {
  const r = await mesh.direct.waitForEnd(taskId, 240_000);
  assert.equal(r.task?.status, TaskStatus.COMPLETED, r.task?.errorMessage);
  return r;
}

/** ffmpeg's MD5 of every decoded frame (header lines dropped: they name the file), and the frame count. */
async function framesOf(r: TaskRecord): Promise<{ md5: string[]; frames: number; width: number }> {
  bus ??= await createNatsBus(await connect({ servers: mesh.natsUrl, name: "e2e-crash-resume", ...mesh.nats.admin }));
  const { videos } = await openMediaStores(bus, { videoTtlHours: 168 });
  const bytes = await videos.get(r.videoObject);
  assert.ok(bytes, `video ${r.videoObject} stored`);
  const file = join(await workDir, `${r.task?.taskId}.mp4`);
  await writeFile(file, bytes);
  const { stdout } = await run("ffmpeg", ["-v", "error", "-i", file, "-f", "framemd5", "-"]);
  const facts = await probeVideo(file);
  return { md5: stdout.split("\n").filter((l) => l !== "" && !l.startsWith("#")), ...facts };
}

/** The inference workers' JSON log lines about a task with this message. */
const linesOf = (taskId: string, msg: string): Record<string, unknown>[] =>
  mesh
    .logs("inference")
    .split("\n")
    .filter((l) => l.includes(taskId) && l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("crash recovery from checkpoints", () => {
  it("a worker killed with SIGKILL at ~70 % loses at most one checkpoint interval; the video is unchanged", async () => {
    const crashed = await submit("crash");
    const at = await waitUntil(
      () => mesh.direct.get(crashed),
      (r) => (r.task?.currentStep ?? 0) >= Math.ceil(STEPS * 0.7),
      { timeoutMs: 120_000, everyMs: 50, what: "70 % of the steps" },
    );
    await mesh.kill("inference", "SIGKILL");
    const killedAt = at.task?.currentStep ?? 0;
    await mesh.start("inference");
    const done = await completes(crashed);

    // The retried attempt started from the newest checkpoint: a multiple of 2 steps, at most one
    // interval (plus the write still under way) from the step the record showed just before the
    // kill (the worker may have run a step or two more by then).
    const [resumed] = linesOf(crashed, "resuming from a checkpoint");
    assert.ok(resumed, "the second worker resumed from a checkpoint");
    const step = Number(resumed.step);
    assert.equal(step % 2, 0);
    assert.ok(step > 0 && step >= killedAt - 4 && step <= killedAt + 4, `resumed at ${step}, killed at ${killedAt}`);
    assert.ok((done.task?.attempt ?? 0) >= 2, "a retried attempt finished it");
    // It ran only the remaining steps, and the usage bills both runs' GPU time.
    const [denoised] = linesOf(crashed, "denoised");
    assert.equal(Number(denoised?.resumed_from_step), step);
    assert.ok(
      (done.gpuSeconds ?? 0) > Number(denoised?.denoise_s) + Number(resumed.prior_denoise_s) * 0.99,
      `billed ${done.gpuSeconds} s`,
    );

    // An uninterrupted run of the same seeded request (another tenant, so not the cache).
    const reference = await completes(await submit("reference"));
    assert.equal(linesOf(reference.task?.taskId ?? "", "resuming from a checkpoint").length, 0);
    const [a, b] = await Promise.all([framesOf(done), framesOf(reference)]).finally(() => bus?.close());
    assert.equal(a.frames, FRAMES);
    assert.equal(a.width, 1280);
    assert.equal(a.md5.length, FRAMES);
    assert.deepEqual(a.md5, b.md5, "frame for frame the uninterrupted video");
  });
});
