import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { followToEnd } from "../../support/follow-task.js";
import { connectClient } from "../../support/gateway-clients.js";
import type { TestMesh } from "../../support/mesh.js";

/** Cancel, list and stopping a running task, against the whole mesh. */
export function taskManagementTests(mesh: TestMesh): void {
  const connect = () => connectClient(mesh.baseUrl, mesh.apiKey);

  describe("task management", () => {
    it("cancels a task and lists tasks newest first", async () => {
      const a = await connect().createTask({ prompt: "first", resolution: "480p", duration: 3 });
      const b = await connect().createTask({ prompt: "second", resolution: "480p", duration: 3 });
      const cancelled = await connect().cancelTask({ taskId: b.taskId });
      assert.equal(cancelled.status, TaskStatus.CANCELLED);
      // Cancelling again changes nothing.
      assert.equal((await connect().cancelTask({ taskId: b.taskId })).status, TaskStatus.CANCELLED);
      await connect().cancelTask({ taskId: a.taskId });

      const page1 = await connect().listTasks({ pageSize: 1 });
      assert.equal(page1.tasks[0]?.taskId, b.taskId);
      assert.notEqual(page1.nextPageToken, "");
      const page2 = await connect().listTasks({ pageSize: 1, pageToken: page1.nextPageToken });
      assert.equal(page2.tasks[0]?.taskId, a.taskId);
      const bad = await connect()
        .listTasks({ pageToken: "garbage" })
        .then(
          () => assert.fail("accepted"),
          (e: unknown) => ConnectError.from(e),
        );
      assert.equal(bad.code, Code.InvalidArgument);
    });

    it("stops a running task within a step when cancelled", async () => {
      const t = await connect().createTask({ prompt: "a long clip", resolution: "720p", duration: 10, seed: 3 });
      // A deadline of its own: a task that never starts fails here, not at the file's timeout.
      for await (const ev of connect().watchTask({ taskId: t.taskId }, { signal: AbortSignal.timeout(180_000) })) {
        if (ev.task?.status === TaskStatus.PROCESSING && ev.task.currentStep >= 1) {
          await connect().cancelTask({ taskId: t.taskId });
        }
      }
      const final = await connect().getTask({ taskId: t.taskId });
      assert.equal(final.status, TaskStatus.CANCELLED);
      // The worker is free again: a new task completes.
      const next = await connect().createTask({ prompt: "after cancel", resolution: "480p", duration: 3 });
      const seen = await followToEnd(connect().watchTask({ taskId: next.taskId }));
      assert.equal(seen.at(-1)?.status, TaskStatus.COMPLETED);
      assert.match(mesh.logs("inference"), /task cancelled mid-generation/);
    });
  });
}
