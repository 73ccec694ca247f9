import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { pino } from "pino";
import { type GenerateJob, GenerateJobSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import { TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import type { Delivery } from "./delivery.js";
import { type AttemptEnd, type AttemptOptions, runAttempt } from "./run-attempt.js";
import type { WorkerEventBody } from "./worker-events.js";

const job = create(GenerateJobSchema, { taskId: "t1", attempt: 2, spec: { width: 832, height: 480, numFrames: 17 } });

/** A delivery of `job` that records what was done with it. */
function delivery(log: string[]): Delivery<GenerateJob> {
  return {
    message: job,
    subject: "t2v.job.generate.standard",
    deliveryCount: 1,
    taskId: job.taskId,
    traceContext: ROOT_CONTEXT,
    ack: () => void log.push("ack"),
    nak: () => void log.push("nak"),
    term: () => void log.push("term"),
    working: () => void log.push("working"),
    keepAlive: () => {
      log.push("keepAlive");
      return () => void log.push("keepAlive stopped");
    },
  };
}

function options(
  log: string[],
  o: { status?: TaskStatus; attempt?: number; kind?: AttemptEnd; shutdown?: boolean; publishFails?: boolean } = {},
): AttemptOptions<GenerateJob> {
  const shutdown = new AbortController();
  if (o.shutdown) shutdown.abort();
  const record = create(TaskRecordSchema, {
    task: { taskId: "t1", status: o.status ?? TaskStatus.PROCESSING, attempt: o.attempt ?? 2 },
  });
  return {
    tasks: { get: async () => ({ record, revision: 1 }) },
    publishEvent: async (_taskId, _attempt, event: WorkerEventBody) => {
      if (o.publishFails) throw new Error("no NATS");
      log.push(`${event?.case} ${JSON.stringify(event?.value, (_k, v) => (typeof v === "bigint" ? `${v}` : v))}`);
    },
    stage: "generate",
    work: "generation",
    shutdown: shutdown.signal,
    log: pino({ level: "silent" }),
    classify: () => o.kind ?? "transient",
    onSkip: () => void log.push("skipped"),
    onFailed: () => void log.push("onFailed"),
  };
}

const fail = async (): Promise<void> => {
  throw new Error("boom");
};

describe("runAttempt", () => {
  it("runs the body with the message kept alive, then acks", async () => {
    const log: string[] = [];
    await runAttempt(delivery(log), options(log), async (a) => {
      assert.equal(a.spec.numFrames, 17);
      a.working();
      log.push("body");
    });
    assert.deepEqual(log, ["keepAlive", "working", "body", "ack", "keepAlive stopped"]);
  });

  for (const [why, o] of [
    ["ended", { status: TaskStatus.CANCELLED }],
    ["superseded by a later attempt", { attempt: 3 }],
  ] as const) {
    it(`skips and acks the job of a task that ${why}`, async () => {
      const log: string[] = [];
      await runAttempt(delivery(log), options(log, o), async () => void log.push("body"));
      assert.deepEqual(log, ["skipped", "ack"]);
    });
  }

  it("reports a transient failure as retryable, at its stage, and acks", async () => {
    const log: string[] = [];
    await runAttempt(delivery(log), options(log), fail);
    assert.deepEqual(log, [
      "keepAlive",
      "onFailed",
      'failed {"message":"boom","retryable":true,"stage":"generate"}',
      "ack",
      "keepAlive stopped",
    ]);
  });

  it("reports a permanent failure as not retryable", async () => {
    const log: string[] = [];
    await runAttempt(delivery(log), options(log, { kind: "permanent" }), fail);
    assert.ok(log.includes('failed {"message":"boom","retryable":false,"stage":"generate"}'), log.join(", "));
  });

  it("acks a cancelled attempt without an event, and hands it back (nak) on shutdown", async () => {
    const cancelled: string[] = [];
    await runAttempt(delivery(cancelled), options(cancelled, { kind: "cancelled" }), fail);
    assert.deepEqual(cancelled, ["keepAlive", "ack", "keepAlive stopped"]);
    const shutdown: string[] = [];
    await runAttempt(delivery(shutdown), options(shutdown, { kind: "cancelled", shutdown: true }), fail);
    assert.deepEqual(shutdown, ["keepAlive", "nak", "keepAlive stopped"]);
  });

  it("throws, without acking, when the failed event cannot be published (the consumer redelivers)", async () => {
    const log: string[] = [];
    await assert.rejects(runAttempt(delivery(log), options(log, { publishFails: true }), fail), /no NATS/);
    assert.deepEqual(log, ["keepAlive", "onFailed", "keepAlive stopped"]);
  });
});
