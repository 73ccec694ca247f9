import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TaskSizeSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { TaskStatus, type TaskTimings } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createSchedulerHarness, type SchedulerHarness } from "./testing/scheduler-harness.js";
import { waitUntil } from "./testing/wait-until.js";

const seconds = (d: TaskTimings[keyof TaskTimings] | undefined): number =>
  d && typeof d === "object" && "seconds" in d ? Number(d.seconds) + d.nanos / 1e9 : 0;

describe("scheduler app: prompt debugging (effective request, timings, cost, codes, start timeout)", () => {
  let h: SchedulerHarness;
  afterEach(() => h.close());

  it("sends the effective request to the worker and records its sampler settings, timings and cost", async () => {
    h = await createSchedulerHarness();
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const id = await h.submit({
      params: {
        prompt: "a fox",
        effectivePrompt: "a fox, cinematic lighting",
        effectiveNegativePrompt: "blurry, flat lighting",
        draft: true,
        previewEverySteps: 2,
      },
      requestedSteps: 6,
    });
    const job = await w.nextJob();
    assert.ok(job);
    const spec = job.message.spec;
    assert.equal(spec?.prompt, "a fox, cinematic lighting", "the model gets the style's template");
    assert.equal(spec?.negativePrompt, "blurry, flat lighting");
    assert.equal(spec?.draft, true);
    assert.equal(spec?.previewEverySteps, 2);
    assert.equal(spec?.steps, 6);
    const dispatched = await h.record(id);
    assert.ok((dispatched.task?.estimatedGpuSeconds ?? 0) > 0, "estimated at dispatch");
    job.ack();

    await w.report(id, 1, {
      case: "started",
      value: {
        executionProvider: "cpu",
        totalSteps: 6,
        model: "wan-tiny@1.2.0",
        modelName: "wan-tiny",
        modelVersion: "1.2.0",
        guidanceScale: 4,
        shift: 5,
        expertBoundary: 875,
      },
    });
    await w.report(id, 1, {
      case: "denoised",
      value: { latentObject: `${id}.1`, denoiseSeconds: 1.5, textEncodeSeconds: 0.25 },
    });
    await w.report(id, 1, {
      case: "videoReady",
      value: {
        videoObject: `${id}.mp4`,
        sizeBytes: 10n,
        frames: 72,
        decodeSeconds: 0.5,
        encodeSeconds: 0.3,
        uploadSeconds: 0.05,
      },
    });
    const r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.COMPLETED, "completed");
    const p = r.task?.params;
    assert.equal(p?.model, "wan-tiny");
    assert.equal(p?.modelVersion, "1.2.0");
    assert.equal(p?.steps, 6);
    assert.equal(p?.guidanceScale, 4);
    assert.equal(p?.shift, 5);
    assert.equal(p?.expertBoundary, 875);
    assert.equal(p?.prompt, "a fox", "the caller's prompt stays");
    const t = r.task?.timings;
    assert.ok(t);
    assert.ok(seconds(t.queueWait) > 0, "queue wait");
    assert.equal(seconds(t.textEncode), 0.25);
    assert.equal(seconds(t.denoise), 1.25, "denoise without the text encoding");
    assert.equal(seconds(t.decode), 0.5);
    assert.equal(seconds(t.encode), 0.3);
    assert.equal(seconds(t.upload), 0.05);
    assert.equal(r.task?.gpuSeconds, 2, "denoise + decode, as billed");
    const usage = await waitUntil(
      () => h.ch.usage.list(r.tenantId, new Date(0), new Date(Date.now() + 86_400_000)),
      (u) => u.length === 1,
      "usage",
    );
    assert.equal(usage[0]?.gpuSeconds, r.task?.gpuSeconds);
  });

  it("fails a task queued behind a busy worker with START_TIMEOUT, unbilled, and broadcasts its cancel", async () => {
    h = await createSchedulerHarness();
    const heard: string[] = [];
    const sub = h.ch.cancellations.subscribe((taskId) => heard.push(taskId));
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const busy = await h.submit();
    const job = await w.nextJob();
    assert.equal(job?.message.taskId, busy);
    await w.report(busy, 1, { case: "started", value: { executionProvider: "cpu", totalSteps: 4 } });
    // No prefetch and the one worker busy: this one waits in the queue past its start deadline.
    const late = await h.submit({ startDeadlineMs: Date.now() + 300 });
    const r = await h.waitFor(late, (x) => x.task?.status === TaskStatus.FAILED, "start timeout");
    assert.equal(r.task?.errorCode, "START_TIMEOUT");
    assert.match(r.task?.errorMessage ?? "", /start_timeout/);
    assert.equal(r.task?.startTime, undefined, "never started");
    await waitUntil(
      async () => heard,
      (l) => l.includes(late),
      "cancel broadcast",
    );
    sub.unsubscribe();
    const usage = await h.ch.usage.list(r.tenantId, new Date(0), new Date(Date.now() + 86_400_000));
    assert.deepEqual(
      usage.map((u) => u.taskId),
      [],
      "not billed",
    );
    const running = await h.record(busy);
    assert.equal(running.task?.status, TaskStatus.PROCESSING, "a started task is not timed out");
    job?.ack();
  });

  it("gives each failure path its code: encoder, model runtime, the worker's own", async () => {
    h = await createSchedulerHarness({ MAX_ATTEMPTS: "1" });
    const w = await h.worker(["standard"]);
    await h.startScheduler();
    const cases = [
      [{ message: "ffmpeg: /tmp/x: broken pipe", retryable: false, stage: "encode", errorCode: "" }, "ENCODER_ERROR"],
      [{ message: "onnxruntime: bad alloc", retryable: true, stage: "generate", errorCode: "" }, "RETRIES_EXHAUSTED"],
      [{ message: "bad frames", retryable: false, stage: "generate", errorCode: "INVALID_INPUT" }, "INVALID_INPUT"],
    ] as const;
    for (const [failed, code] of cases) {
      const id = await h.submit();
      const job = await w.nextJob();
      assert.equal(job?.message.taskId, id);
      job.ack();
      await w.report(id, 1, { case: "failed", value: failed });
      const r = await h.waitFor(id, (x) => x.task?.status === TaskStatus.FAILED, code);
      assert.equal(r.task?.errorCode, code);
      assert.doesNotMatch(r.task?.errorMessage ?? "", /ffmpeg|onnxruntime|\/tmp/, "no tool output or paths");
      assert.ok((r.task?.errorMessage.length ?? 0) < 80, "short");
    }
  });

  it("estimates accelerator seconds of any task sent with its size, scaled by pixels x frames x steps", async () => {
    h = await createSchedulerHarness();
    await h.startScheduler();
    const size = (taskId: string, steps: number, width = 832, height = 480) =>
      create(TaskSizeSchema, { taskId, pool: "standard", width, height, numFrames: 72, steps });
    const answer = await waitUntil(
      // Until the term's responder is up, nobody answers.
      () =>
        h.ch.queueEstimates.request([], 500, [size("a", 10), size("b", 20), size("c", 10, 1280, 720)]).catch(() => []),
      (a) => a.length === 3,
      "estimates",
    );
    const by = new Map(answer.map((e) => [e.taskId, e]));
    const a = by.get("a")?.estimatedGpuSeconds ?? 0;
    assert.ok(a > 0);
    assert.equal(by.get("a")?.queued, false, "not in the queue: no position");
    assert.ok(Math.abs((by.get("b")?.estimatedGpuSeconds ?? 0) - 2 * a) < 0.01, "twice the steps");
    const c = by.get("c")?.estimatedGpuSeconds ?? 0;
    assert.ok(Math.abs(c - (a * (1280 * 720)) / (832 * 480)) < 0.01, "scales with pixels");
  });
});
