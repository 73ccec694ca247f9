import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Channels } from "@t2v/common/channels";
import { GenerateJobSchema, type GenerationSpec, GenerationSpecSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { WorkerEvent } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** The smallest clip wan-tiny serves: 480p, 17 frames at 16 fps. */
export function smallJobSpec(o: { seed?: number; numFrames?: number; steps?: number } = {}): GenerationSpec {
  return create(GenerationSpecSchema, {
    prompt: "a paper boat on a rainy street",
    negativePrompt: "blurry",
    width: 832,
    height: 480,
    numFrames: o.numFrames ?? 17,
    frameRate: 16,
    seed: o.seed ?? 7,
    steps: o.steps ?? 4,
  });
}

/** A task record at `status` (QUEUED by default), then its GenerateJob for the standard pool. */
export async function submitJob(
  ch: Channels,
  taskId: string,
  spec: GenerationSpec,
  status: TaskStatus = TaskStatus.QUEUED,
  /** As the scheduler leaves a task an earlier run started (and may have checkpointed). */
  opts: { started?: boolean } = {},
): Promise<void> {
  const task = { taskId, status, attempt: 1, ...(opts.started ? { startTime: timestampNow() } : {}) };
  await ch.tasks.create(create(TaskRecordSchema, { task, tenantId: "t", pool: "standard" }));
  await ch.generateJobs.publish(create(GenerateJobSchema, { taskId, attempt: 1, spec }), "standard");
}

/** Worker events (acked) until `done` says so, or until `ms` pass. */
export async function eventsUntil(
  ch: Channels,
  done: (e: WorkerEvent) => boolean,
  ms = 30_000,
): Promise<WorkerEvent[]> {
  const inbox = await ch.workerEvents.inbox();
  const events: WorkerEvent[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const d = await inbox.next(Math.max(1, until - Date.now()));
    if (!d) break;
    d.ack();
    events.push(d.message);
    if (done(d.message)) break;
  }
  return events;
}

export const eventCases = (events: WorkerEvent[]): string[] => events.map((e) => e.event.case ?? "");
