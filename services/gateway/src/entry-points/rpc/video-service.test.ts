import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, type ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { BadRequestSchema, RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "@t2v/common/gen/grpc/health/v1/health_pb";
import { ServerReflection } from "@t2v/common/gen/grpc/reflection/v1/reflection_pb";
import { type CreateTaskRequest, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { patchRecord } from "@t2v/common/task";
import { DEFAULT_NEGATIVE_PROMPT } from "../../domain/normalize-create-request.js";
import { rpcFixture, tenant } from "../../testing/gateway-fixture.js";
import { refusal } from "../../testing/refusal.js";

type CreateInit = Partial<Omit<CreateTaskRequest, "$typeName">>;

function badFields(err: ConnectError): string[] {
  return err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
}

describe("VideoService.CreateTask (in process)", async () => {
  const f = await rpcFixture({ WEBHOOK_ALLOW_HOSTS: "127.0.0.1" });
  const create = (init: CreateInit) => f.client.createTask(init, f.alice.auth);

  it("queues a valid request: QUEUED, the caller's tier, defaults filled", async () => {
    const task = await create({ prompt: "a paper boat on a rainy street", resolution: "480p", duration: 3 });
    assert.equal(task.status, TaskStatus.QUEUED);
    assert.equal(task.tier, "standard");
    assert.equal(task.params?.width, 832);
    assert.equal(task.params?.numFrames, 72);
    assert.equal(task.params?.seed, 1234);
    const stored = await f.ch.tasks.get(task.taskId);
    assert.equal(stored?.record.tenantId, "alice");
    assert.equal(stored?.record.pool, "standard");
  });

  it("fills the default negative prompt", async () => {
    const task = await create({ prompt: "a lighthouse at dusk" });
    assert.equal(task.params?.negativePrompt, DEFAULT_NEGATIVE_PROMPT);
    const kept = await create({ prompt: "a lighthouse at dusk", negativePrompt: "fog" });
    assert.equal(kept.params?.negativePrompt, "fog");
  });

  it("puts a submission on the submissions inbox", async () => {
    const task = await create({ prompt: "a cat" });
    const inbox = await f.ch.submissions.inbox();
    const seen: string[] = [];
    for (let d = await inbox.next(50); d; d = await inbox.next(50)) {
      seen.push(d.message.taskId);
      if (d.message.taskId === task.taskId) {
        assert.equal(d.message.tenantId, "alice");
        assert.equal(d.message.pool, "standard");
        assert.equal(d.message.attempt, 1);
      }
      d.ack();
    }
    assert.ok(seen.includes(task.taskId), `${task.taskId} not in ${seen.join(",")}`);
  });

  const invalid: [string, CreateInit, string][] = [
    ["an empty prompt", { prompt: "" }, "prompt"],
    ["a blank prompt", { prompt: "   " }, "prompt"],
    ["a prompt over 200 characters", { prompt: "x".repeat(201) }, "prompt"],
    ["control characters", { prompt: "a\u0007b" }, "prompt"],
    ["a negative prompt over 500 characters", { prompt: "x", negativePrompt: "n".repeat(501) }, "negative_prompt"],
    ["an unknown resolution", { prompt: "x", resolution: "1080p" }, "resolution"],
    ["a duration under 3 s", { prompt: "x", duration: 2.5 }, "duration"],
    ["a duration over 10 s", { prompt: "x", duration: 10.5 }, "duration"],
    ["a frame rate not 16, 24 or 30", { prompt: "x", frameRate: 25 }, "frame_rate"],
    ["a seed above int32", { prompt: "x", seed: 2 ** 31 }, "seed"],
    ["an unknown style", { prompt: "x", style: "baroque" }, "style"],
    ["a plain-http webhook", { prompt: "x", webhookUrl: "http://hooks.example.com/t2v" }, "webhook_url"],
    ["a webhook at a private address", { prompt: "x", webhookUrl: "https://10.0.0.1/hook" }, "webhook_url"],
    [
      "a timeout under a minute",
      { prompt: "x", timeout: { $typeName: "google.protobuf.Duration", seconds: 59n, nanos: 0 } },
      "timeout",
    ],
  ];
  for (const [what, init, field] of invalid) {
    it(`refuses ${what} with INVALID_ARGUMENT naming ${field}`, async () => {
      const err = await refusal(() => create(init));
      assert.equal(err.code, Code.InvalidArgument);
      assert.ok(badFields(err).includes(field), `${field} not in ${badFields(err).join(",")}`);
    });
  }

  it("replays an idempotent retry and refuses the key with another body", async () => {
    const first = await create({ prompt: "a fox", idempotencyKey: "k-1" });
    const again = await create({ prompt: "a fox", idempotencyKey: "k-1" });
    assert.equal(again.taskId, first.taskId);
    const header = await f.client.createTask(
      { prompt: "a fox" },
      { headers: { authorization: `Bearer ${f.alice.key}`, "idempotency-key": "k-1" } },
    );
    assert.equal(header.taskId, first.taskId);
    const err = await refusal(() => create({ prompt: "a wolf", idempotencyKey: "k-1" }));
    assert.equal(err.code, Code.AlreadyExists);
    // Keys are per tenant: bob's "k-1" is his own.
    const bobs = await f.client.createTask({ prompt: "a fox", idempotencyKey: "k-1" }, f.bob.auth);
    assert.notEqual(bobs.taskId, first.taskId);
  });

  it("refuses a tenant whose queue is full, as the scheduler wrote it, with RetryInfo", async () => {
    const g = await rpcFixture({ MAX_QUEUED_PER_TENANT_STANDARD: "3" });
    await g.ch.queueStats.write("alice", 3, 0);
    const err = await refusal(() => g.client.createTask({ prompt: "x" }, g.alice.auth));
    assert.equal(err.code, Code.ResourceExhausted);
    assert.ok(err.findDetails(RetryInfoSchema)[0]?.retryDelay);
    await g.ch.queueStats.write("alice", 2, 0);
    assert.equal((await g.client.createTask({ prompt: "x" }, g.alice.auth)).status, TaskStatus.QUEUED);
    // Another tenant is not held back.
    await g.ch.queueStats.write("alice", 3, 0);
    assert.equal((await g.client.createTask({ prompt: "x" }, g.bob.auth)).status, TaskStatus.QUEUED);
  });
});

describe("VideoService.GetTask and ListTasks (in process)", async () => {
  const f = await rpcFixture();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await f.client.createTask({ prompt: `cat ${i}` }, f.alice.auth)).taskId);
  const bobTask = await f.client.createTask({ prompt: "bob's" }, f.bob.auth);

  it("gets the caller's task", async () => {
    const task = await f.client.getTask({ taskId: ids[0] }, f.alice.auth);
    assert.equal(task.taskId, ids[0]);
    assert.equal(task.params?.prompt, "cat 0");
  });

  it("answers NOT_FOUND for another tenant's task, a missing id and a malformed one alike", async () => {
    for (const taskId of [bobTask.taskId, "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee", "nope"]) {
      const err = await refusal(() => f.client.getTask({ taskId }, f.alice.auth));
      assert.equal(err.code, Code.NotFound, taskId);
    }
    assert.equal(
      (await refusal(() => f.client.cancelTask({ taskId: bobTask.taskId }, f.alice.auth))).code,
      Code.NotFound,
    );
    const watch = async () => {
      for await (const _ of f.client.watchTask({ taskId: bobTask.taskId }, f.alice.auth)) break;
    };
    assert.equal((await refusal(watch)).code, Code.NotFound);
  });

  it("pages newest first without gaps or repeats, and only the caller's tasks", async () => {
    const seen: string[] = [];
    let pageToken = "";
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await f.client.listTasks({ pageSize: 2, pageToken }, f.alice.auth);
      sizes.push(page.tasks.length);
      seen.push(...page.tasks.map((t) => t.taskId));
      pageToken = page.nextPageToken;
      if (pageToken === "") break;
    }
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.deepEqual(seen, [...ids].reverse());
  });

  it("filters by status and refuses a foreign page token", async () => {
    await f.client.cancelTask({ taskId: ids[1] }, f.alice.auth);
    const cancelled = await f.client.listTasks({ status: TaskStatus.CANCELLED }, f.alice.auth);
    assert.deepEqual(
      cancelled.tasks.map((t) => t.taskId),
      [ids[1]],
    );
    const queued = await f.client.listTasks({ status: TaskStatus.QUEUED }, f.alice.auth);
    assert.equal(queued.tasks.length, 4);
    const err = await refusal(() => f.client.listTasks({ pageToken: "garbage" }, f.alice.auth));
    assert.equal(err.code, Code.InvalidArgument);
    assert.deepEqual(badFields(err), ["page_token"]);
  });

  it("checks the contract of every request (page_size over 1000)", async () => {
    const err = await refusal(() => f.client.listTasks({ pageSize: 1001 }, f.alice.auth));
    assert.equal(err.code, Code.InvalidArgument);
    assert.deepEqual(badFields(err), ["page_size"]);
  });
});

describe("VideoService.CancelTask (in process)", async () => {
  const f = await rpcFixture();

  it("writes CANCELLED, broadcasts the cancel and publishes the task change", async () => {
    const heard: string[] = [];
    const sub = f.ch.cancellations.subscribe((taskId) => heard.push(taskId));
    const task = await f.client.createTask({ prompt: "a cat" }, f.alice.auth);
    const cancelled = await f.client.cancelTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(cancelled.status, TaskStatus.CANCELLED);
    assert.equal((await f.ch.tasks.get(task.taskId))?.record.task?.status, TaskStatus.CANCELLED);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(heard, [task.taskId]);
    sub.unsubscribe();
    const change = await (await f.ch.taskChanges.inbox()).next(100);
    assert.equal(change?.message.task?.taskId, task.taskId);
    assert.equal(change?.message.task?.status, TaskStatus.CANCELLED);
    change?.ack();
  });

  it("returns an ended task as it is, without a second broadcast", async () => {
    const heard: string[] = [];
    const sub = f.ch.cancellations.subscribe((taskId) => heard.push(taskId));
    const task = await f.client.createTask({ prompt: "a dog" }, f.alice.auth);
    await f.client.cancelTask({ taskId: task.taskId }, f.alice.auth);
    const again = await f.client.cancelTask({ taskId: task.taskId }, f.alice.auth);
    assert.equal(again.status, TaskStatus.CANCELLED);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(heard, [task.taskId]);
    sub.unsubscribe();
  });
});

describe("VideoService.WatchTask (in process)", async () => {
  const f = await rpcFixture();

  it("sends a snapshot, then each change written to the task store, and ends on a terminal state", async () => {
    const task = await f.client.createTask({ prompt: "a cat" }, f.alice.auth);
    const seen: [TaskStatus, number][] = [];
    const stream = f.client.watchTask({ taskId: task.taskId }, f.alice.auth);
    for await (const ev of stream) {
      const t = ev.task;
      assert.ok(t);
      seen.push([t.status, t.progress]);
      if (seen.length === 1)
        await f.ch.tasks.update(task.taskId, (r) => patchRecord(r, { status: TaskStatus.PROCESSING, progress: 0.5 }));
      else if (seen.length === 2)
        await f.ch.tasks.update(task.taskId, (r) => patchRecord(r, { status: TaskStatus.FAILED, progress: 0.5 }));
    }
    assert.deepEqual(seen, [
      [TaskStatus.QUEUED, 0],
      [TaskStatus.PROCESSING, 0.5],
      [TaskStatus.FAILED, 0.5],
    ]);
  });
});

describe("VideoService auth and rate limits (in process)", async () => {
  const f = await rpcFixture({ RATE_LIMIT_STANDARD: "60/2" });
  const get = (authorization?: string) =>
    f.client.getTask(
      { taskId: "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee" },
      authorization === undefined ? {} : { headers: { authorization } },
    );

  it("answers UNAUTHENTICATED for a missing, malformed, unknown or revoked key", async () => {
    const carol = await tenant(f.keys, "carol");
    assert.equal((await refusal(() => get(`Bearer ${carol.key}`))).code, Code.NotFound);
    await f.keys.revoke(carol.prefix);
    for (const h of [undefined, "Basic abc", "Bearer t2v_0123456789ab_nope", `Bearer ${carol.key}`]) {
      const err = await refusal(() => get(h));
      assert.equal(err.code, Code.Unauthenticated, String(h));
      assert.ok(!err.rawMessage.includes(carol.key));
    }
  });

  it("answers RESOURCE_EXHAUSTED with RetryInfo past the tier's burst, per key", async () => {
    const bearer = `Bearer ${f.alice.key}`;
    assert.equal((await refusal(() => get(bearer))).code, Code.NotFound);
    assert.equal((await refusal(() => get(bearer))).code, Code.NotFound);
    const err = await refusal(() => get(bearer));
    assert.equal(err.code, Code.ResourceExhausted);
    const delay = err.findDetails(RetryInfoSchema)[0]?.retryDelay;
    assert.ok(delay && (delay.seconds > 0n || delay.nanos > 0));
    // Bob has his own bucket.
    assert.equal((await refusal(() => get(`Bearer ${f.bob.key}`))).code, Code.NotFound);
  });

  it("lists the services by reflection without a key", async () => {
    const reflection = createClient(ServerReflection, createRouterTransport(f.parts.routes));
    async function* ask() {
      yield { host: "", messageRequest: { case: "listServices" as const, value: "" } };
    }
    const names: string[] = [];
    for await (const res of reflection.serverReflectionInfo(ask()))
      if (res.messageResponse.case === "listServicesResponse")
        names.push(...res.messageResponse.value.service.map((x) => x.name));
    assert.ok(names.includes("t2v.v1.VideoService"));
    assert.ok(names.includes("grpc.health.v1.Health"));
  });

  it("needs no key for health checks", async () => {
    const health = createClient(Health, createRouterTransport(f.parts.routes));
    assert.equal((await health.check({ service: "" })).status, Serving.SERVING);
    assert.equal((await health.check({ service: "t2v.v1.VideoService" })).status, Serving.SERVING);
  });
});
