import { clone, create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema, type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { type Task, type TaskTimings, TaskTimingsSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";

type Stage = Exclude<keyof TaskTimings, "$typeName" | "$unknown">;

/** The timings of an attempt that just started: its queue wait (from submission), nothing else yet. */
export function attemptTimings(queueWaitSeconds: number): TaskTimings {
  return create(TaskTimingsSchema, { queueWait: durationOf(queueWaitSeconds) });
}

/** The task's timings with some stages (seconds) filled in; the others stay as they were. Pure. */
export function withTimings(t: Task, stages: Partial<Record<Stage, number>>): TaskTimings {
  const next = t.timings ? clone(TaskTimingsSchema, t.timings) : create(TaskTimingsSchema);
  for (const [stage, seconds] of Object.entries(stages) as [Stage, number][]) next[stage] = durationOf(seconds);
  return next;
}

/** Microsecond precision: a text encode served from the cache takes well under a millisecond. */
export function durationOf(seconds: number): Duration {
  const us = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds * 1e6)) : 0;
  return create(DurationSchema, { seconds: BigInt(Math.floor(us / 1e6)), nanos: (us % 1e6) * 1000 });
}

export function secondsBetween(from: Timestamp | undefined, to: Timestamp): number {
  return from ? (timestampMs(to) - timestampMs(from)) / 1000 : 0;
}
