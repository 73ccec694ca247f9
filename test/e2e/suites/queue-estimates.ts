import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Unsubscribe } from "@t2v/common/channels";
import { QueueEstimateSchema } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { bearer } from "../../support/auth.js";
import { connectClient } from "../../support/gateway-clients.js";
import type { TestMesh } from "../../support/mesh.js";

/**
 * Queue position and ETA as the gateway reports them, with estimates this
 * suite answers (and, for WatchTask, pushes) itself. Stops the mesh's "scheduler" first, so it runs last.
 */
export function queueEstimateTests(mesh: TestMesh): void {
  describe("queue position and ETA", () => {
    let responder: Unsubscribe | undefined;
    let registrations: Unsubscribe | undefined;
    let pushing: NodeJS.Timeout | undefined;
    let position = 3;

    // From here on no scheduler answers; this suite answers the estimate requests itself.
    before(async () => {
      await mesh.kill("scheduler");
    });

    after(() => {
      responder?.unsubscribe();
      registrations?.unsubscribe();
      clearInterval(pushing);
    });

    const estimateOf = (taskId: string) => {
      const now = Date.now();
      return create(QueueEstimateSchema, {
        taskId,
        queued: true,
        position,
        estimatedStartTime: timestampFromMs(now + position * 60_000),
        estimatedFinishTime: timestampFromMs(now + position * 60_000 + 90_000),
      });
    };

    /**
     * Answers from now on, and pushes as the leader does: the watched tasks of each gateway at once
     * when they are registered, then every 200 ms. Resolves once nats-server routes requests here
     * (a round trip of its own).
     */
    async function answerEstimates(): Promise<void> {
      responder = mesh.channels.queueEstimates.answer((taskIds) => taskIds.map(estimateOf));
      const watched = new Map<string, string[]>();
      const push = (gatewayId: string): void => {
        mesh.channels.estimatePushes.push(gatewayId, (watched.get(gatewayId) ?? []).map(estimateOf));
      };
      registrations = mesh.channels.estimatePushes.onRegistration((part) => {
        watched.set(part.gatewayId, part.taskIds);
        push(part.gatewayId);
      });
      pushing = setInterval(() => {
        for (const id of watched.keys()) push(id);
      }, 200);
      await mesh.channels.queueEstimates.request([], 2_000);
    }

    it("leaves them unset, without failing or waiting long, when the scheduler does not answer", async () => {
      const c = connectClient(mesh.baseUrl, mesh.apiKey);
      const t = await c.createTask({ prompt: "nobody schedules me", resolution: "480p", duration: 3 });
      const started = Date.now();
      const got = await c.getTask({ taskId: t.taskId });
      assert.ok(Date.now() - started < 2_000);
      assert.equal(got.status, TaskStatus.QUEUED);
      assert.equal(got.estimatedStartTime, undefined);
    });

    it("fills them from the scheduler in GetTask, ListTasks, REST and WatchTask, and follows changes", async () => {
      await answerEstimates();
      const c = connectClient(mesh.baseUrl, mesh.apiKey);
      const t = await c.createTask({ prompt: "where am I", resolution: "480p", duration: 3 });
      const got = await c.getTask({ taskId: t.taskId });
      assert.equal(got.queuePosition, 3);
      assert.ok(got.estimatedStartTime && got.estimatedFinishTime);
      const listed = (await c.listTasks({ status: TaskStatus.QUEUED })).tasks.find((x) => x.taskId === t.taskId);
      assert.equal(listed?.queuePosition, 3);
      const rest = (await (
        await fetch(`${mesh.baseUrl}/v1/t2v/status?task_id=${t.taskId}`, { headers: bearer(mesh.apiKey) })
      ).json()) as Record<string, unknown>;
      assert.equal(rest.status, "queued");
      assert.equal(rest.queue_position, 3);
      assert.equal(typeof rest.estimated_start_time, "string");

      const seen: Task[] = [];
      const ac = new AbortController();
      const watching = (async () => {
        for await (const ev of c.watchTask({ taskId: t.taskId }, { signal: ac.signal })) {
          if (ev.task) seen.push(ev.task);
          if (seen.length === 1) position = 1;
          if (ev.task?.queuePosition === 1) break;
        }
      })();
      const timer = setTimeout(() => ac.abort(), 8_000);
      await watching.catch(() => undefined);
      clearTimeout(timer);
      assert.equal(seen[0]?.queuePosition, 3);
      assert.equal(seen.at(-1)?.queuePosition, 1, "an event when the position moved");
    });
  });
}
