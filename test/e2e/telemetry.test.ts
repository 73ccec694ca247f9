import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Buckets, createUsageLedger, openBucket, Subjects } from "@t2v/common";
import { WorkerEventSchema } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { connectAuth } from "../support/auth.js";
import { freePort } from "../support/free-port.js";
import { startMesh, type TestMesh } from "../support/mesh.js";
import { startNats, type TestNats } from "../support/nats-server.js";
import { type OtlpReceiver, startOtlpReceiver } from "../support/otlp-receiver.js";

let nats: TestNats;
let mesh: TestMesh;
let otlp: OtlpReceiver;
let nc: NatsConnection;
const metricsPorts: Record<string, number> = {};

before(async () => {
  otlp = await startOtlpReceiver();
  nats = await startNats();
  mesh = await startMesh(
    nats.url,
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "200",
    },
    [],
  );
  for (const name of ["scheduler", "inference", "encoder", "gateway"]) {
    metricsPorts[name] = await freePort();
    await mesh.start(name, { env: { METRICS_PORT: String(metricsPorts[name]), METRICS_HOST: "127.0.0.1" } });
  }
  nc = await connect({ servers: nats.url });
});

after(async () => {
  await nc?.drain();
  await mesh?.stop();
  await nats?.stop();
  await otlp?.close();
});

describe("observability", () => {
  it("traces one task across all four services in one trace, every span carrying the task id", async () => {
    const client = createClient(
      VideoService,
      createConnectTransport({ baseUrl: mesh.baseUrl, httpVersion: "1.1", interceptors: [connectAuth(mesh.apiKey)] }),
    );
    const created = await client.createTask({ prompt: "a traced fox", resolution: "480p", duration: 3, seed: 5 });
    for await (const ev of client.watchTask({ taskId: created.taskId })) {
      if (ev.task?.status === TaskStatus.COMPLETED) break;
    }
    const taskId = created.taskId;
    // Spans are exported in batches; wait until the encoder's have arrived.
    const until = Date.now() + 15_000;
    const ofTask = () => otlp.spans.filter((s) => s.attributes["t2v.task_id"] === taskId);
    while (Date.now() < until && !new Set(ofTask().map((s) => s.service)).has("encoder")) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const spans = ofTask();
    const services = new Set(spans.map((s) => s.service));
    assert.deepEqual([...services].sort(), ["encoder", "gateway", "inference", "scheduler"]);
    const traceIds = new Set(spans.map((s) => s.traceId));
    assert.equal(traceIds.size, 1, `one trace, got ${[...traceIds].join(", ")}`);
    const [traceId] = [...traceIds];
    const create = otlp.spans.find((s) => s.traceId === traceId && s.name === "t2v.v1.VideoService/CreateTask");
    assert.ok(create, "the trace starts at the client's CreateTask");
    assert.equal(create.parentSpanId, "", "CreateTask is the root");
    for (const name of ["scheduler.dispatch", "encoder.vae_decode", "encoder.h264_encode", "objectstore.put"]) {
      assert.ok(
        spans.some((s) => s.name === name),
        `${name} span in the trace`,
      );
    }
    // Log lines of the task carry its ids and the trace.
    const videoReadyLine = () =>
      mesh
        .logs("encoder")
        .split("\n")
        .find((l) => l.includes(taskId) && l.includes('"msg":"video ready"'));
    for (let i = 0; i < 50 && !videoReadyLine(); i++) await new Promise((r) => setTimeout(r, 100));
    const line = videoReadyLine();
    assert.ok(line, "encoder logged the video");
    const rec = JSON.parse(line) as Record<string, string>;
    assert.equal(rec.trace_id, traceId);
    assert.match(rec.span_id ?? "", /^[0-9a-f]{16}$/);
    assert.equal(rec.service, "encoder");
  });

  it("keeps exactly one usage record per completed task, also when the last event is redelivered", async () => {
    const client = createClient(
      VideoService,
      createConnectTransport({ baseUrl: mesh.baseUrl, httpVersion: "1.1", interceptors: [connectAuth(mesh.apiKey)] }),
    );
    const t = await client.createTask({ prompt: "billed once", resolution: "480p", duration: 3, seed: 9 });
    for await (const ev of client.watchTask({ taskId: t.taskId })) {
      if (ev.task?.status === TaskStatus.COMPLETED) break;
    }
    // A duplicate "video ready", as a redelivery after a crash would bring.
    const js = jetstream(nc);
    await js.publish(
      Subjects.event(t.taskId),
      toBinary(
        WorkerEventSchema,
        create(WorkerEventSchema, {
          taskId: t.taskId,
          attempt: 1,
          workerId: "replayed",
          event: { case: "videoReady", value: { videoObject: `${t.taskId}.mp4`, frames: 72 } },
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const ledger = createUsageLedger(await openBucket(nc, Buckets.usage));
    const day = 86_400_000;
    const records = (await ledger.list("test", new Date(Date.now() - day), new Date(Date.now() + day))).filter(
      (u) => u.taskId === t.taskId,
    );
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
    const scrape = async (name: string) => (await fetch(`http://127.0.0.1:${metricsPorts[name]}/metrics`)).text();
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
