import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EVENTS_CONSUMER } from "@t2v/common/channels";
import { WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectClient } from "../../support/gateway-clients.js";
import type { TestMesh } from "../../support/mesh.js";
import { waitUntil } from "../../support/wait.js";

/**
 * Traces, trace ids in logs, the usage ledger and Prometheus metrics of the
 * whole mesh. Needs a mesh started with `collectSpans`.
 */
export function observabilityTests(mesh: TestMesh): void {
  describe("observability", () => {
    it("traces one task across all four services in one trace, every span carrying the task id", async () => {
      const client = connectClient(mesh.baseUrl, mesh.apiKey);
      const created = await client.createTask({ prompt: "a traced fox", resolution: "480p", duration: 3, seed: 5 });
      for await (const ev of client.watchTask({ taskId: created.taskId })) {
        if (ev.task?.status === TaskStatus.COMPLETED) break;
      }
      const taskId = created.taskId;
      const expected = ["scheduler.dispatch", "encoder.vae_decode", "encoder.h264_encode", "objectstore.put"];
      // Spans are exported in batches, and one process's spans of a task can straddle two of
      // them: wait until every expected span has arrived, not just the first of the encoder's.
      const spans = await waitUntil(
        async () => mesh.spans.filter((s) => s.attributes["t2v.task_id"] === taskId),
        (found) =>
          new Set(found.map((s) => s.service)).size === 4 &&
          expected.every((name) => found.some((s) => s.name === name)),
        {
          timeoutMs: 15_000,
          what: "the task's spans",
          show: (found) => [...new Set(found.map((s) => `${s.service}:${s.name}`))].join(", "),
        },
      );
      const services = new Set(spans.map((s) => s.service));
      assert.deepEqual([...services].sort(), ["encoder", "gateway", "inference", "scheduler"]);
      const traceIds = new Set(spans.map((s) => s.traceId));
      assert.equal(traceIds.size, 1, `one trace, got ${[...traceIds].join(", ")}`);
      const [traceId] = [...traceIds];
      const create = mesh.spans.find((s) => s.traceId === traceId && s.name === "t2v.v1.VideoService/CreateTask");
      assert.ok(create, "the trace starts at the client's CreateTask");
      assert.equal(create.parentSpanId, "", "CreateTask is the root");
      for (const name of expected) {
        assert.ok(
          spans.some((s) => s.name === name),
          `${name} span in the trace`,
        );
      }
      // Log lines of the task carry its ids and the trace.
      const line = await waitUntil(
        async () =>
          mesh
            .logs("encoder")
            .split("\n")
            .find((l) => l.includes(taskId) && l.includes('"msg":"video ready"')),
        (found) => found !== undefined,
        { timeoutMs: 5_000, what: "the encoder's video-ready log line" },
      );
      assert.ok(line, "encoder logged the video");
      const rec = JSON.parse(line) as Record<string, string>;
      assert.equal(rec.trace_id, traceId);
      assert.match(rec.span_id ?? "", /^[0-9a-f]{16}$/);
      assert.equal(rec.service, "encoder");
    });

    it("keeps exactly one usage record per completed task, also when the last event is redelivered", async () => {
      const client = connectClient(mesh.baseUrl, mesh.apiKey);
      const t = await client.createTask({ prompt: "billed once", resolution: "480p", duration: 3, seed: 9 });
      for await (const ev of client.watchTask({ taskId: t.taskId })) {
        if (ev.task?.status === TaskStatus.COMPLETED) break;
      }
      // A duplicate "video ready", as a redelivery after a crash would bring.
      await mesh.channels.workerEvents.publish(
        create(WorkerEventSchema, {
          taskId: t.taskId,
          attempt: 1,
          workerId: "replayed",
          event: { case: "videoReady", value: { videoObject: `${t.taskId}.mp4`, frames: 72 } },
        }),
      );
      // The scheduler has applied it once nothing is left waiting or unacknowledged on its consumer.
      await waitUntil(
        () => mesh.channels.bus.backlog(EVENTS_CONSUMER),
        (n) => n === 0,
        { timeoutMs: 10_000, what: "the scheduler applying the replayed event" },
      );
      const day = 86_400_000;
      const records = (
        await mesh.channels.usage.list("test", new Date(Date.now() - day), new Date(Date.now() + day))
      ).filter((u) => u.taskId === t.taskId);
      assert.equal(records.length, 1);
      const [u] = records;
      assert.equal(u?.tenantId, "test");
      assert.equal(u?.frames, 72);
      assert.equal(u?.resolution, "480p");
      assert.ok((u?.gpuSeconds ?? 0) > 0, "measured accelerator seconds");
      assert.equal(u?.billable, true);
      assert.ok((u?.steps ?? 0) > 0);
    });

    it("serves Prometheus metrics from every service", async () => {
      const scrape = async (name: string) => (await fetch(`${mesh.metricsUrl(name)}/metrics`)).text();
      const scheduler = await scrape("scheduler");
      for (const m of [
        "t2v_queue_depth",
        "t2v_queue_wait_seconds",
        "t2v_task_duration_seconds",
        "t2v_tasks_finished_total",
      ]) {
        assert.match(scheduler, new RegExp(`^${m}`, "m"), `scheduler exports ${m}`);
      }
      const encoder = await scrape("encoder");
      assert.match(encoder, /^t2v_vae_decode_seconds/m);
      assert.match(encoder, /^t2v_h264_encode_seconds/m);
      const inference = await scrape("inference");
      assert.match(inference, /^t2v_denoise_step_seconds/m);
      assert.match(inference, /^t2v_execution_provider\{.*provider="cpu".*\} 1/m);
      assert.ok((await scrape("gateway")).length >= 0);
    });
  });
}
