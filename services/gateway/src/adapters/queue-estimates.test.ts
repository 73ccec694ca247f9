import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { QueueEstimates } from "@t2v/common/channels";
import { type QueueEstimate, QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createQueueEstimates } from "./queue-estimates.js";

const queued = (taskId: string): Task => create(TaskSchema, { taskId, status: TaskStatus.QUEUED });

/** A scheduler that answers each request after `delayMs`, recording the ids of each. */
function fakeScheduler(delayMs: number) {
  const requests: string[][] = [];
  const estimates: QueueEstimates = {
    async request(taskIds, _timeoutMs, _sizes, arriving = []) {
      requests.push([...taskIds, ...arriving.map((a) => `arriving:${a.taskId}:${a.tenantId}:${a.pool}`)]);
      await new Promise((r) => setTimeout(r, delayMs));
      return [
        ...taskIds.map(
          (taskId, i): QueueEstimate => create(QueueEstimateSchema, { taskId, position: i + 1, queued: true }),
        ),
        ...arriving.map((a) => create(QueueEstimateSchema, { taskId: a.taskId, position: 7, projected: true })),
      ];
    },
    answer: () => ({ unsubscribe: () => undefined }),
  };
  return { estimates, requests };
}

test("the calls that come while a request is out share the next request; each task gets its own answer", async () => {
  const s = fakeScheduler(20);
  const estimate = createQueueEstimates(s.estimates, 1_000).estimate;
  const tasks = ["a", "b", "c", "d"].map(queued);
  await Promise.all(tasks.map((t) => estimate([t])));
  assert.deepEqual(s.requests, [["a"], ["b", "c", "d"]]);
  assert.deepEqual(
    tasks.map((t) => t.queuePosition),
    [1, 1, 2, 3],
  );
});

test("a call waits at most its timeout, even behind a request already out; it then goes on without estimates", async () => {
  const s = fakeScheduler(200);
  const estimate = createQueueEstimates(s.estimates, 50).estimate;
  const first = queued("a");
  const second = queued("b");
  const started = Date.now();
  await Promise.all([estimate([first]), estimate([second])]);
  assert.ok(Date.now() - started < 150, "neither waited for the slow scheduler");
  assert.equal(second.queuePosition, 0);
});

test("only queued tasks are asked about", async () => {
  const s = fakeScheduler(0);
  const estimate = createQueueEstimates(s.estimates, 1_000).estimate;
  const processing = create(TaskSchema, { taskId: "r", status: TaskStatus.PROCESSING });
  await estimate([processing]);
  assert.deepEqual(s.requests, []);
});

test("a task just created is asked about as arriving, in the same request as the others of its burst", async () => {
  const s = fakeScheduler(20);
  const { estimate, project } = createQueueEstimates(s.estimates, 1_000);
  const fresh = create(TaskSchema, { taskId: "n", status: TaskStatus.QUEUED, tier: "vip" });
  const [, , projected] = await Promise.all([estimate([queued("a")]), estimate([queued("b")]), project(fresh, "acme")]);
  assert.deepEqual(s.requests, [["a"], ["b", "arriving:n:acme:vip"]]);
  assert.equal(projected?.projected, true);
  assert.equal(projected?.position, 7);
});
