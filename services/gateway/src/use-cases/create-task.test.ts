import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { SUBMIT_CONSUMER, type TaskStore } from "@t2v/common/channels";
import { TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { rpcFixture } from "../testing/gateway-fixture.js";

async function codeOf(call: () => Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call();
    return "ok";
  } catch (err) {
    if (err instanceof ConnectError) return err.code;
    throw err;
  }
}

const listed = async (tasks: TaskStore, tenantId: string): Promise<string[]> =>
  (await tasks.page({ tenantId, status: TaskStatus.UNSPECIFIED, from: null, limit: 100, maxSlots: 400 })).tasks.map(
    (t) => t.record.task?.taskId ?? "",
  );

describe("CreateTask: cached keys, watched admission, parallel writes (router transport, memory bus)", () => {
  it("returns a task id only once record, tenant index and submission are all stored", async () => {
    const f = await rpcFixture();
    const task = await f.client.createTask({ prompt: "a cat" }, f.alice.auth);
    assert.equal((await f.ch.tasks.get(task.taskId))?.record.tenantId, "alice");
    assert.deepEqual(await listed(f.ch.tasks, "alice"), [task.taskId]);
    const submitted = f.bus
      .streamMessages(SUBMIT_CONSUMER.stream.name)
      .map((m) => fromBinary(TaskSubmittedSchema, m.data).taskId);
    assert.deepEqual(submitted, [task.taskId]);
  });

  it("refuses a key revoked while the gateway holds it in memory, on the very next call", async () => {
    const f = await rpcFixture();
    assert.equal(await codeOf(() => f.client.createTask({ prompt: "a cat" }, f.alice.auth)), "ok");
    assert.equal(await codeOf(() => f.client.createTask({ prompt: "a cat" }, f.alice.auth)), "ok", "from the cache");
    await f.keys.revoke(f.alice.prefix);
    assert.equal(await codeOf(() => f.client.createTask({ prompt: "a cat" }, f.alice.auth)), Code.Unauthenticated);
    assert.equal(
      await codeOf(() => f.client.createTask({ prompt: "a cat" }, f.bob.auth)),
      "ok",
      "other keys unaffected",
    );
  });

  it("lets a burst through only up to the tenant's queue limit, before the scheduler has counted any of it", async () => {
    const f = await rpcFixture({ MAX_QUEUED_PER_TENANT_STANDARD: "5" });
    await f.ch.queueStats.write("alice", 2, 0);
    const codes = await Promise.all(
      Array.from({ length: 8 }, () => codeOf(() => f.client.createTask({ prompt: "a cat" }, f.alice.auth))),
    );
    assert.equal(codes.filter((c) => c === "ok").length, 3, "2 queued + 3 = the limit of 5");
    assert.equal(codes.filter((c) => c === Code.ResourceExhausted).length, 5);
    assert.equal((await listed(f.ch.tasks, "alice")).length, 3);
  });
});
