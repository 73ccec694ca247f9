import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { channels, createMemoryBus } from "@t2v/common/channels";
import { BadRequestSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, newTaskId } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";
import { pageTokenKey } from "../domain/page-token.js";
import { type ListTasks, listTasksUseCase, MAX_PAGE_SIZE } from "./list-tasks.js";

const alice: Caller = { tenantId: "alice", tier: "standard", keyPrefix: "aaaaaaaaaaaa" };
const bob: Caller = { tenantId: "bob", tier: "standard", keyPrefix: "bbbbbbbbbbbb" };

async function setup(n: number) {
  const ch = channels(createMemoryBus());
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const taskId = newTaskId();
    ids.push(taskId);
    await ch.tasks.create(create(TaskRecordSchema, { tenantId: "alice", task: { taskId, status: TaskStatus.QUEUED } }));
  }
  const list = listTasksUseCase({ tasks: ch.tasks, tokenKey: pageTokenKey(new Uint8Array(32)), now: Date.now });
  return { ch, ids, list };
}

async function everyPage(list: ListTasks, caller: Caller, q: { pageSize: number; status: TaskStatus }) {
  const ids: string[] = [];
  const sizes: number[] = [];
  let pageToken = "";
  for (let calls = 0; calls < 500; calls++) {
    const page = await list(caller, { ...q, pageToken });
    sizes.push(page.items.length);
    ids.push(...page.items.map((r) => r.task?.taskId ?? ""));
    pageToken = page.next;
    if (pageToken === "") return { ids, sizes };
  }
  assert.fail("the listing did not end");
}

function badToken(err: unknown): boolean {
  const e = ConnectError.from(err);
  return (
    e.code === Code.InvalidArgument && e.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field === "page_token"
  );
}

describe("ListTasks (memory bus)", () => {
  it("bounds the page size: 0 is 20, anything above 100 is 100", async () => {
    const { ids, list } = await setup(MAX_PAGE_SIZE + 5);
    const all = { pageToken: "", status: TaskStatus.UNSPECIFIED };
    assert.equal((await list(alice, { ...all, pageSize: 0 })).items.length, 20);
    const big = await list(alice, { ...all, pageSize: 1000 });
    assert.equal(big.items.length, MAX_PAGE_SIZE);
    assert.deepEqual(
      big.items.map((r) => r.task?.taskId),
      [...ids].reverse().slice(0, MAX_PAGE_SIZE),
    );
    const rest = await list(alice, { ...all, pageSize: 1000, pageToken: big.next });
    assert.equal(rest.items.length, 5);
    assert.equal(rest.next, "");
  });

  it("refuses a garbage, edited, foreign or other-filter token with INVALID_ARGUMENT naming page_token", async () => {
    const { list } = await setup(3);
    const first = await list(alice, { pageSize: 1, pageToken: "", status: TaskStatus.UNSPECIFIED });
    assert.notEqual(first.next, "");
    const [payload = "", sig = ""] = first.next.split(".");
    const edited = `${payload}.${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`;
    const tries: Array<[Caller, string, TaskStatus]> = [
      [alice, "garbage", TaskStatus.UNSPECIFIED],
      [alice, edited, TaskStatus.UNSPECIFIED],
      [bob, first.next, TaskStatus.UNSPECIFIED],
      [alice, first.next, TaskStatus.QUEUED],
    ];
    for (const [caller, pageToken, status] of tries)
      await assert.rejects(list(caller, { pageSize: 1, pageToken, status }), badToken, pageToken);
    assert.equal(
      (await list(alice, { pageSize: 1, pageToken: first.next, status: TaskStatus.UNSPECIFIED })).items.length,
      1,
    );
  });

  it("with a status filter, reads a bounded number of entries per call and still finds every match", async () => {
    const { ch, ids, list } = await setup(45);
    // All but three leave QUEUED; their QUEUED entries stay behind for readers to skip.
    for (const id of ids.slice(3)) await ch.tasks.update(id, (r) => endTask(r, TaskStatus.CANCELLED));
    const queued = await everyPage(list, alice, { pageSize: 2, status: TaskStatus.QUEUED });
    assert.deepEqual(queued.ids, ids.slice(0, 3).reverse());
    // 2 x 4 entries per call: 42 stale entries cannot be skipped in one call, so some pages come back short.
    assert.ok(queued.sizes.length >= 5 && queued.sizes.some((n) => n < 2), queued.sizes.join(","));
    const cancelled = await everyPage(list, alice, { pageSize: 10, status: TaskStatus.CANCELLED });
    assert.deepEqual(cancelled.ids, ids.slice(3).reverse());
    assert.deepEqual((await everyPage(list, bob, { pageSize: 10, status: TaskStatus.UNSPECIFIED })).ids, []);
  });
});
