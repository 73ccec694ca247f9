import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { PreviewSchema, type TaskEvent, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { patchRecord } from "@t2v/common/task";
import { DEFAULT_NEGATIVE_PROMPT } from "../../domain/normalize-create-request.js";
import { rpcFixture } from "../../testing/gateway-fixture.js";
import { refusal } from "../../testing/refusal.js";

const reason = (err: ConnectError) => err.findDetails(ErrorInfoSchema)[0]?.reason;
const seconds = (s: number) => ({ $typeName: "google.protobuf.Duration" as const, seconds: BigInt(s), nanos: 0 });

describe("VideoService prompt debugging: the effective request (in process)", async () => {
  const f = await rpcFixture();

  it("echoes the effective request of a defaulted one", async () => {
    const task = await f.client.createTask({ prompt: "a lighthouse at dusk" }, f.alice.auth);
    const p = task.params;
    assert.ok(p);
    assert.equal(p.prompt, "a lighthouse at dusk");
    assert.equal(p.effectivePrompt, "a lighthouse at dusk", "no style: the prompt as given");
    assert.equal(p.negativePrompt, DEFAULT_NEGATIVE_PROMPT);
    assert.equal(p.effectiveNegativePrompt, DEFAULT_NEGATIVE_PROMPT);
    assert.equal(p.seed, 1234, "drawn by the service and reported");
    assert.equal(p.seedExplicit, false);
    assert.equal(p.draft, false);
    assert.equal(p.previewEverySteps, 0);
    assert.equal(p.resolution, "720p");
  });

  it("echoes the style's template and its negative additions, keeping the caller's prompts apart", async () => {
    const task = await f.client.createTask(
      { prompt: "a fox in the snow", negativePrompt: "people", style: "Cinematic", seed: 7 },
      f.alice.auth,
    );
    const p = task.params;
    assert.ok(p);
    assert.equal(p.prompt, "a fox in the snow");
    assert.equal(p.negativePrompt, "people");
    assert.equal(p.style, "cinematic");
    assert.equal(
      p.effectivePrompt,
      "a fox in the snow, cinematic lighting, shallow depth of field, film grain, anamorphic",
    );
    assert.equal(p.effectiveNegativePrompt, "people, flat lighting, amateur footage");
    assert.equal(p.seed, 7);
    assert.equal(p.seedExplicit, true);
  });

  it("sets the start deadline from start_timeout and keeps the request for reruns", async () => {
    const before = Date.now();
    const task = await f.client.createTask(
      { prompt: "a cat", startTimeout: seconds(30), previewEverySteps: 2 },
      f.alice.auth,
    );
    const deadline = Number(task.startDeadline?.seconds ?? 0n) * 1000;
    assert.ok(deadline >= before + 29_000 && deadline <= Date.now() + 31_000);
    assert.equal(task.params?.previewEverySteps, 2);
    const stored = await f.ch.tasks.get(task.taskId);
    assert.equal(stored?.record.request?.prompt, "a cat");
    const err = await refusal(() => f.client.createTask({ prompt: "x", startTimeout: seconds(5) }, f.alice.auth));
    assert.equal(err.code, Code.InvalidArgument, "10 s at least");
  });

  it("fills estimated_gpu_seconds at create from the scheduler's answer for the task's size", async () => {
    const g = await rpcFixture();
    const asked: number[] = [];
    const sub = g.ch.queueEstimates.answer((_ids, sizes) =>
      sizes.map((s) => {
        asked.push(s.width * s.height * s.numFrames);
        return create(QueueEstimateSchema, { taskId: s.taskId, estimatedGpuSeconds: 12.5 });
      }),
    );
    const task = await g.client.createTask({ prompt: "a cat", resolution: "480p", duration: 3 }, g.alice.auth);
    sub.unsubscribe();
    assert.equal(task.estimatedGpuSeconds, 12.5);
    assert.equal(task.queuePosition, 0);
    assert.equal(task.estimatedStartTime, undefined, "not in the scheduler's queue yet: no position or ETA");
    assert.deepEqual(asked, [832 * 480 * 72]);
  });
});

describe("VideoService.RerunTask and drafts (in process)", async () => {
  const f = await rpcFixture();

  it("reruns with a new seed: a new task naming its origin, with the origin's request otherwise", async () => {
    const origin = await f.client.createTask({ prompt: "a red kite", style: "anime", duration: 4 }, f.alice.auth);
    const rerun = await f.client.rerunTask({ taskId: origin.taskId, overrides: { seed: 99 } }, f.alice.auth);
    assert.notEqual(rerun.taskId, origin.taskId);
    assert.equal(rerun.rerunOf, origin.taskId);
    assert.equal(rerun.status, TaskStatus.QUEUED);
    assert.equal(rerun.params?.seed, 99);
    assert.notEqual(rerun.params?.seed, origin.params?.seed);
    assert.equal(rerun.params?.effectivePrompt, origin.params?.effectivePrompt);
    assert.equal(rerun.params?.duration, 4);
    const same = await f.client.rerunTask({ taskId: origin.taskId }, f.alice.auth);
    assert.equal(same.params?.seed, origin.params?.seed, "no override: the drawn seed, now explicit");
    assert.equal(same.params?.seedExplicit, true);
    const steps = await f.client.rerunTask({ taskId: origin.taskId, overrides: { steps: 8 } }, f.alice.auth);
    assert.equal(steps.params?.steps, 8);
    assert.equal((await f.ch.tasks.get(steps.taskId))?.record.requestedSteps, 8);
  });

  it("is owner only: another tenant's task is NOT_FOUND", async () => {
    const origin = await f.client.createTask({ prompt: "mine" }, f.alice.auth);
    const err = await refusal(() => f.client.rerunTask({ taskId: origin.taskId }, f.bob.auth));
    assert.equal(err.code, Code.NotFound);
  });

  it("renders a draft at 480p with the same seed, and promotes it to the full request", async () => {
    const draft = await f.client.createTask(
      { prompt: "a city at night", resolution: "720p", draft: true },
      f.alice.auth,
    );
    assert.equal(draft.params?.draft, true);
    assert.equal(draft.params?.resolution, "480p");
    assert.equal(draft.params?.width, 832);
    const full = await f.client.rerunTask({ taskId: draft.taskId, overrides: { draft: false } }, f.alice.auth);
    assert.equal(full.rerunOf, draft.taskId);
    assert.equal(full.params?.draft, false);
    assert.equal(full.params?.resolution, "720p", "the resolution the draft was asked for");
    assert.equal(full.params?.width, 1280);
    assert.equal(full.params?.seed, draft.params?.seed, "same composition");
    assert.equal(full.params?.effectivePrompt, draft.params?.effectivePrompt);
  });
});

describe("VideoService.WatchTask previews (in process)", async () => {
  const f = await rpcFixture();
  const preview = (step: number) =>
    create(PreviewSchema, {
      image: new Uint8Array([0xff, 0xd8, step]),
      mimeType: "image/jpeg",
      step,
      width: 8,
      height: 4,
    });

  /** Watches a task, publishing `steps` previews once it runs, then ends it; returns the events. */
  async function watch(previewEverySteps: number): Promise<TaskEvent[]> {
    const task = await f.client.createTask({ prompt: "a cat", previewEverySteps }, f.alice.auth);
    const id = task.taskId;
    const events: TaskEvent[] = [];
    for await (const ev of f.client.watchTask({ taskId: id }, f.alice.auth)) {
      events.push(ev);
      if (events.length === 1) {
        await f.ch.tasks.update(id, (r) => patchRecord(r, { status: TaskStatus.PROCESSING }));
      } else if (ev.task?.status === TaskStatus.PROCESSING && !ev.preview && events.length === 2) {
        f.ch.previews.publish(id, 2, preview(9)); // an older attempt's: dropped
        f.ch.previews.publish(id, 1, preview(2));
        f.ch.previews.publish(id, 1, preview(4));
        // Previews are fire and forget; give them a moment before the task ends.
        setTimeout(() => {
          void f.ch.tasks.update(id, (r) => patchRecord(r, { status: TaskStatus.COMPLETED, progress: 1 }));
        }, 50);
      }
    }
    return events;
  }

  it("sends previews of the current attempt when the task asked for them", async () => {
    const events = await watch(2);
    const steps = events.flatMap((e) => (e.preview ? [e.preview.step] : []));
    assert.deepEqual(steps, [2, 4]);
    const withPreview = events.find((e) => e.preview);
    assert.equal(withPreview?.task?.status, TaskStatus.PROCESSING, "with the task as it stands");
    assert.equal(withPreview?.preview?.mimeType, "image/jpeg");
    assert.equal(events.at(-1)?.task?.status, TaskStatus.COMPLETED);
  });

  it("never sends previews to a task that did not ask", async () => {
    const events = await watch(0);
    assert.equal(
      events.some((e) => e.preview),
      false,
    );
    assert.equal(events.at(-1)?.task?.status, TaskStatus.COMPLETED);
  });
});

describe("VideoService error codes (in process)", async () => {
  it("gives INVALID_INPUT, QUOTA_EXCEEDED and CANCELLED_BY_USER", async () => {
    const f = await rpcFixture({ MAX_QUEUED_PER_TENANT_STANDARD: "3" });
    const invalid = await refusal(() => f.client.createTask({ prompt: "  " }, f.alice.auth));
    assert.equal(invalid.code, Code.InvalidArgument);
    assert.equal(reason(invalid), "INVALID_INPUT");
    const contract = await refusal(() => f.client.createTask({ prompt: "x", duration: 1 }, f.alice.auth));
    assert.equal(reason(contract), "INVALID_INPUT");

    const task = await f.client.createTask({ prompt: "a cat" }, f.alice.auth);
    const cancelled = await f.client.cancelTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(cancelled.status, TaskStatus.CANCELLED);
    assert.equal(cancelled.errorCode, "CANCELLED_BY_USER");

    await f.ch.queueStats.write("alice", 3, 0);
    const quota = await refusal(() => f.client.createTask({ prompt: "x" }, f.alice.auth));
    assert.equal(quota.code, Code.ResourceExhausted);
    assert.equal(reason(quota), "QUOTA_EXCEEDED");
  });
});
