// Pause, resume and reprioritise (issue #10) against real processes: a running 720p clip is
// paused over gRPC, stops at a step boundary with its checkpoint kept, is reprioritised and
// resumed over Connect, continues from that step and ends frame for frame the video an
// uninterrupted run makes. The REST status shows it as "paused" meanwhile.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { bearer } from "../support/auth.js";
import { frameMd5s, logLines, submitClip } from "../support/clip-tasks.js";
import { connectClient, grpcClient } from "../support/gateway-clients.js";
import { useMesh } from "../support/use-mesh.js";
import { waitUntil } from "../support/wait.js";

const STEPS = 40;
const mesh = useMesh({ env: { CHECKPOINT_EVERY_SECONDS: "0", CHECKPOINT_EVERY_STEPS: "0" } });

describe("pause, resume, reprioritise", () => {
  it("a paused running clip keeps its checkpoint and, resumed, ends frame for frame as an uninterrupted run", async () => {
    const grpc = grpcClient(mesh.baseUrl, mesh.apiKey);
    const web = connectClient(mesh.baseUrl, mesh.apiKey);
    const taskId = await submitClip(mesh, { tenant: "test", steps: STEPS });
    await mesh.direct.waitFor(taskId, (r) => (r.task?.currentStep ?? 0) >= 5, 120_000);

    const paused = await grpc.pauseTask({ taskId });
    assert.equal(paused.status, TaskStatus.PAUSED);
    assert.ok(paused.pauseExpireTime, "says until when");
    // The worker yields at the next step boundary: the attempt ends (acked, not failed) with a checkpoint.
    const yielded = await mesh.direct.waitFor(taskId, (r) => r.checkpointObject !== "", 60_000);
    assert.equal(yielded.task?.status, TaskStatus.PAUSED);
    assert.equal(yielded.task?.attempt, 2, "the next attempt is a fresh one");
    assert.equal(yielded.yieldedAttempts, 1, "and not charged to the retry budget");
    const [line] = await waitUntil(
      async () => logLines(mesh, "inference", taskId, "denoise yielded"),
      (l) => l.length > 0,
      { timeoutMs: 10_000, what: "the worker's yield" },
    );
    const step = Number(line?.step);
    assert.ok(step >= 5 && step < STEPS, `yielded at step ${step}`);

    const rest = await fetch(`${mesh.baseUrl}/v1/t2v/status?task_id=${taskId}`, { headers: bearer(mesh.apiKey) });
    const body = (await rest.json()) as Record<string, unknown>;
    assert.equal(body.status, "paused");
    assert.equal(typeof body.pause_expire_time, "string");

    // A paused task is not dispatched: no other attempt starts while it stays paused.
    const still = await grpc.getTask({ taskId });
    assert.equal(still.status, TaskStatus.PAUSED);
    assert.equal(logLines(mesh, "inference", taskId, "resuming from a checkpoint").length, 0);

    assert.equal((await web.updateTaskPriority({ taskId, priority: 5 })).priority, 5);
    const resumed = await web.resumeTask({ taskId });
    assert.equal(resumed.status, TaskStatus.QUEUED);
    const done = await mesh.direct.waitForEnd(taskId, 240_000);
    assert.equal(done.task?.status, TaskStatus.COMPLETED, done.task?.errorMessage);
    const [resumedLine] = logLines(mesh, "inference", taskId, "resuming from a checkpoint");
    assert.equal(Number(resumedLine?.step), step, "resumed at the step it yielded");
    assert.equal(done.task?.progress, 1);

    // Owner only: another tenant's key gets NOT_FOUND, as for GetTask.
    const other = await mesh.createKey("someone-else");
    const err = await grpcClient(mesh.baseUrl, other.key)
      .pauseTask({ taskId })
      .then(() => undefined, ConnectError.from);
    assert.equal(err?.code, Code.NotFound);

    const reference = await mesh.direct.waitForEnd(
      await submitClip(mesh, { tenant: "reference", steps: STEPS }),
      240_000,
    );
    assert.equal(reference.task?.status, TaskStatus.COMPLETED);
    const [a, b] = await frameMd5s(mesh, [done, reference]);
    assert.equal(a?.length, 121);
    assert.deepEqual(a, b, "frame for frame the uninterrupted video");
  });
});
