import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { TaskControlMessage } from "@t2v/common/channels";
import { BadRequestSchema, ErrorInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { patchRecord } from "@t2v/common/task";
import { rpcFixture } from "../../testing/gateway-fixture.js";
import { refusal } from "../../testing/refusal.js";

const HOUR_MS = 3_600_000;

describe("VideoService.PauseTask, ResumeTask, UpdateTaskPriority (in process)", async () => {
  const f = await rpcFixture({ PAUSED_TTL_HOURS: "2" });
  const heard: TaskControlMessage[] = [];
  f.ch.taskControls.subscribe((m) => heard.push(m));
  const settle = () => new Promise((r) => setImmediate(r));

  it("pauses a queued task until PAUSED_TTL_HOURS from now, and resumes it to QUEUED", async () => {
    heard.length = 0;
    const task = await f.client.createTask({ prompt: "a cat" }, f.alice.auth);
    const before = Date.now();
    const paused = await f.client.pauseTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(paused.status, TaskStatus.PAUSED);
    assert.ok(paused.pauseExpireTime);
    const expires = timestampMs(paused.pauseExpireTime);
    assert.ok(expires >= before + 2 * HOUR_MS && expires <= Date.now() + 2 * HOUR_MS, `${expires}`);
    assert.equal((await f.ch.tasks.get(task.taskId))?.record.task?.status, TaskStatus.PAUSED);
    // Pausing again changes nothing and broadcasts nothing.
    assert.equal((await f.client.pauseTask({ taskId: task.taskId }, f.alice.auth)).status, TaskStatus.PAUSED);
    const resumed = await f.client.resumeTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(resumed.status, TaskStatus.QUEUED);
    assert.equal(resumed.pauseExpireTime, undefined);
    // Never dispatched: the same attempt goes on.
    assert.equal(resumed.attempt, 1);
    await settle();
    assert.deepEqual(
      heard.map((m) => [m.taskId, m.kind]),
      [
        [task.taskId, "pause"],
        [task.taskId, "resume"],
      ],
    );
    const changes = await f.ch.taskChanges.inbox();
    const statuses: TaskStatus[] = [];
    for (let d = await changes.next(100); d; d = await changes.next(100)) {
      if (d.message.task?.taskId === task.taskId) statuses.push(d.message.task.status);
      d.ack();
    }
    assert.ok(statuses.includes(TaskStatus.PAUSED), `task changes: ${statuses.join(",")}`);
  });

  it("resuming a task whose dispatched attempt was paused starts a fresh attempt, not charged to the retry budget", async () => {
    const task = await f.client.createTask({ prompt: "a dog" }, f.alice.auth);
    // As the scheduler and a worker leave it: dispatched, denoising step 3 of 8.
    await f.ch.tasks.update(task.taskId, (r) =>
      patchRecord(r, { status: TaskStatus.PROCESSING, currentStep: 3, totalSteps: 8 }, { dispatchedAttempt: 1 }),
    );
    const paused = await f.client.pauseTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(paused.status, TaskStatus.PAUSED);
    assert.equal(paused.currentStep, 3, "progress is kept");
    const resumed = await f.client.resumeTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(resumed.status, TaskStatus.QUEUED);
    assert.equal(resumed.attempt, 2);
    const r = (await f.ch.tasks.get(task.taskId))?.record;
    assert.equal(r?.yieldedAttempts, 1);
    assert.equal(r?.dispatchedAttempt, 1);
  });

  it("changes the priority of a live task and refuses ended and encoding tasks with FAILED_PRECONDITION", async () => {
    heard.length = 0;
    const task = await f.client.createTask({ prompt: "a fox" }, f.alice.auth);
    const raised = await f.client.updateTaskPriority({ taskId: task.taskId, priority: 7 }, f.alice.auth);
    assert.equal(raised.priority, 7);
    assert.equal((await f.ch.tasks.get(task.taskId))?.record.task?.priority, 7);
    await settle();
    assert.deepEqual(
      heard.map((m) => m.kind),
      ["priority"],
    );

    await f.ch.tasks.update(task.taskId, (r) => patchRecord(r, { status: TaskStatus.ENCODING }));
    const encoding = await refusal(() => f.client.pauseTask({ taskId: task.taskId }, f.alice.auth));
    assert.equal(encoding.code, Code.FailedPrecondition);
    assert.equal(encoding.findDetails(ErrorInfoSchema)[0]?.reason, "TASK_ENCODING");

    await f.client.cancelTask({ taskId: task.taskId }, f.alice.auth);
    for (const call of [
      () => f.client.pauseTask({ taskId: task.taskId }, f.alice.auth),
      () => f.client.resumeTask({ taskId: task.taskId }, f.alice.auth),
      () => f.client.updateTaskPriority({ taskId: task.taskId, priority: 1 }, f.alice.auth),
    ]) {
      const err = await refusal(call);
      assert.equal(err.code, Code.FailedPrecondition);
      assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "TASK_ENDED");
    }
  });

  it("answers NOT_FOUND for another tenant's task, a missing id and a malformed one alike", async () => {
    const bobs = await f.client.createTask({ prompt: "bob's" }, f.bob.auth);
    for (const taskId of [bobs.taskId, "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee", "nope"]) {
      for (const call of [
        () => f.client.pauseTask({ taskId }, f.alice.auth),
        () => f.client.resumeTask({ taskId }, f.alice.auth),
        () => f.client.updateTaskPriority({ taskId, priority: 1 }, f.alice.auth),
      ]) {
        assert.equal((await refusal(call)).code, Code.NotFound, taskId);
      }
    }
    assert.equal((await f.ch.tasks.get(bobs.taskId))?.record.task?.status, TaskStatus.QUEUED);
  });

  it("checks the contract: priority within -100..100, a task id", async () => {
    const task = await f.client.createTask({ prompt: "an owl" }, f.alice.auth);
    const err = await refusal(() => f.client.updateTaskPriority({ taskId: task.taskId, priority: 101 }, f.alice.auth));
    assert.equal(err.code, Code.InvalidArgument);
    assert.deepEqual(
      err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field)),
      ["priority"],
    );
    assert.equal((await refusal(() => f.client.pauseTask({ taskId: "" }, f.alice.auth))).code, Code.InvalidArgument);
  });
});
