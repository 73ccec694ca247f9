import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { context } from "@opentelemetry/api";
import { channels, createMemoryBus, type Delivery } from "@t2v/common/channels";
import { type GenerateJob, GenerateJobSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { createLogger } from "@t2v/common/logger";
import { newTaskId } from "@t2v/common/task";
import { queuedTaskRecord } from "@t2v/common/testing/queued-task";
import { GenerationCancelledError } from "@t2v/model";
import type { GenerateRun } from "../use-cases/generate-video.js";
import { listenForCancellations } from "./cancel-listener.js";
import { createGenerateConsumer } from "./generate-consumer.js";

function delivery(job: GenerateJob): Delivery<GenerateJob> & { acked: () => boolean } {
  let acked = false;
  return {
    message: job,
    subject: "t2v.generate.standard",
    deliveryCount: 1,
    taskId: job.taskId,
    traceContext: context.active(),
    ack: () => {
      acked = true;
    },
    nak: () => undefined,
    term: () => undefined,
    working: () => undefined,
    keepAlive: () => () => undefined,
    acked: () => acked,
  };
}

describe("the generate consumer", () => {
  it("stops a run whose task was cancelled between the job's first record read and its cancel listener", async () => {
    const bus = createMemoryBus();
    const ch = channels(bus);
    const taskId = newTaskId();
    const record = queuedTaskRecord(taskId, { tenant: "t" });
    await ch.tasks.create(record);
    // The first read (the job's skip check) sees the task queued; the cancel lands right after it,
    // before the run listens for broadcasts: only the second read can tell.
    let reads = 0;
    const tasks = {
      get: async (id: string) => {
        const found = await ch.tasks.get(id);
        if (++reads === 1)
          await ch.tasks.update(id, (r) => ({ ...r, task: { ...r.task, status: TaskStatus.CANCELLED } }) as typeof r);
        return found;
      },
    };
    const running = listenForCancellations(ch.cancellations);
    let steps = 0;
    const generateVideo = async (run: GenerateRun): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        if (run.signal.aborted) throw new GenerationCancelledError();
        steps++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const consume = createGenerateConsumer({
      tasks,
      claims: ch.attemptClaims,
      holder: "worker-1/a",
      leaseMs: 30_000,
      publishEvent: async () => undefined,
      generateVideo,
      running,
      shutdown: new AbortController().signal,
      log: createLogger("inference", "silent"),
      onBusy: () => undefined,
    });
    const d = delivery(create(GenerateJobSchema, { taskId, attempt: 1, spec: {} }));
    await consume(d, { onModelFree: () => undefined });
    running.close();
    assert.equal(reads, 2, "the record was read again once the run listened");
    assert.ok(steps < 200, `the run stopped early (${steps} of 200 steps)`);
    assert.ok(d.acked(), "a cancelled job is acked, not redelivered");
  });
});
