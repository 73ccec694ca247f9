import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { pino } from "pino";
import { type GenerateJob, GenerateJobSchema } from "../gen/t2v/internal/v1/jobs_pb.js";
import { TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { type AttemptClaims, attemptClaims } from "./attempt-claims.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import type { Delivery } from "./delivery.js";
import { type AttemptEnd, type AttemptOptions, AttemptSupersededError, runAttempt } from "./run-attempt.js";
import type { WorkerEventBody } from "./worker-events.js";

const job = create(GenerateJobSchema, { taskId: "t1", attempt: 2, spec: { width: 832, height: 480, numFrames: 17 } });

/** A delivery of `job` that records what was done with it. */
function delivery(log: string[], deliveryCount = 1): Delivery<GenerateJob> {
  return {
    message: job,
    subject: "t2v.job.generate.standard",
    deliveryCount,
    taskId: job.taskId,
    traceContext: ROOT_CONTEXT,
    ack: () => void log.push("ack"),
    nak: (delayMs) => void log.push(delayMs === undefined ? "nak" : "nak later"),
    term: () => void log.push("term"),
    working: () => void log.push("working"),
    keepAlive: () => {
      log.push("keepAlive");
      return () => void log.push("keepAlive stopped");
    },
  };
}

interface OptionsOverrides {
  status?: TaskStatus;
  attempt?: number;
  kind?: AttemptEnd;
  shutdown?: boolean;
  publishFails?: boolean;
  claims?: AttemptClaims;
  holder?: string;
  leaseMs?: number;
}

function options(log: string[], o: OptionsOverrides = {}): AttemptOptions<GenerateJob> {
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
    claims: o.claims ?? attemptClaims(createMemoryBus()),
    holder: o.holder ?? "worker-a/1",
    leaseMs: o.leaseMs ?? 60_000,
    retry: { firstDelayMs: 1, maxDelayMs: 5 },
    onSkip: (_job, why) => void log.push(`skipped ${why}`),
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
      assert.deepEqual(log, ["skipped ended", "ack"]);
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

  it("runs an attempt once: a second delivery after it ended is dropped unrun", async () => {
    const claims = attemptClaims(createMemoryBus());
    const first: string[] = [];
    await runAttempt(delivery(first), options(first, { claims }), async () => void first.push("body"));
    assert.deepEqual(first, ["keepAlive", "body", "ack", "keepAlive stopped"]);
    // The same attempt again (a redelivery whose ack was lost, a re-publish): on this worker or another.
    for (const holder of ["worker-a/1", "worker-b/1"]) {
      const again: string[] = [];
      await runAttempt(delivery(again), options(again, { claims, holder }), async () => void again.push("body"));
      assert.deepEqual(again, ["skipped done", "ack"], holder);
    }
    // A failed attempt is over too: its retry comes as the next attempt, not as this one again.
    const failed: string[] = [];
    const claims2 = attemptClaims(createMemoryBus());
    await runAttempt(delivery(failed), options(failed, { claims: claims2 }), fail);
    const after: string[] = [];
    await runAttempt(delivery(after), options(after, { claims: claims2, holder: "worker-b/1" }), fail);
    assert.deepEqual(after, ["skipped done", "ack"]);
  });

  it("drops a duplicate while another live worker runs the attempt, and leaves its inputs alone", async () => {
    const claims = attemptClaims(createMemoryBus());
    let finish = (): void => undefined;
    const a: string[] = [];
    const running = runAttempt(delivery(a), options(a, { claims }), () => new Promise<void>((r) => (finish = r)));
    await new Promise((r) => setImmediate(r));
    // Put back to wait out the holder's lease (it may have died), then dropped after a few tries.
    const b: string[] = [];
    await runAttempt(delivery(b), options(b, { claims, holder: "worker-b/1" }), async () => void b.push("body"));
    assert.deepEqual(b, ["skipped held", "nak later"]);
    const c: string[] = [];
    await runAttempt(delivery(c, 3), options(c, { claims, holder: "worker-b/1" }), async () => void c.push("body"));
    assert.deepEqual(c, ["skipped held", "ack"]);
    finish();
    await running;
    assert.deepEqual(a, ["keepAlive", "ack", "keepAlive stopped"]);
  });

  it("lets the next worker take an attempt at once when it was handed back, and after a lease when its worker died", async () => {
    const claims = attemptClaims(createMemoryBus());
    const handedBack: string[] = [];
    await runAttempt(delivery(handedBack), options(handedBack, { claims, kind: "handBack" }), fail);
    assert.deepEqual(handedBack, ["keepAlive", "nak", "keepAlive stopped"]);
    const next: string[] = [];
    await runAttempt(
      delivery(next),
      options(next, { claims, holder: "worker-b/1" }),
      async () => void next.push("body"),
    );
    assert.ok(next.includes("body"), next.join(", "));

    // A worker that died holding a claim (it never renews): another takes over once the lease ran out.
    const claims2 = attemptClaims(createMemoryBus());
    const dead = await claims2.claim("generate", "t1", 2, "worker-dead/1", 30);
    assert.equal(dead.kind, "claimed");
    const early: string[] = [];
    await runAttempt(
      delivery(early),
      options(early, { claims: claims2, holder: "worker-b/1" }),
      async () => void early.push("body"),
    );
    assert.deepEqual(early, ["skipped held", "nak later"]);
    await new Promise((r) => setTimeout(r, 40));
    const late: string[] = [];
    await runAttempt(
      delivery(late),
      options(late, { claims: claims2, holder: "worker-b/1" }),
      async () => void late.push("body"),
    );
    assert.ok(late.includes("body"), late.join(", "));
  });

  it("stops a worker whose attempt was taken over: no output, no event, no ack", async () => {
    const bus = createMemoryBus();
    const log: string[] = [];
    await runAttempt(delivery(log), options(log, { claims: attemptClaims(bus) }), async (a) => {
      // The holder stalls (a SIGSTOP) past its lease: another worker, whose clock has passed it, takes over.
      const later = attemptClaims(bus, () => Date.now() + 120_000);
      assert.equal((await later.claim("generate", "t1", 2, "worker-b/1", 60_000)).kind, "claimed");
      await assert.rejects(a.stillHeld(), AttemptSupersededError);
      assert.ok(a.superseded.aborted);
      log.push("stopped before writing");
      throw a.superseded.reason;
    });
    assert.deepEqual(log, ["keepAlive", "stopped before writing", "keepAlive stopped"]);
  });
});
