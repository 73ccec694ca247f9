import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { isTerminal } from "@t2v/common";
import { type GenerateJob, GenerateJobSchema, type TaskSubmitted } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export type DispatchDecision =
  | { kind: "dispatch"; job: GenerateJob; pool: string }
  /** Not yet: the retry backoff has not run out, or the record lags the message. */
  | { kind: "wait"; delayMs: number }
  /** Nothing to do: the task ended, was cancelled, or this submission is stale. */
  | { kind: "drop"; reason: string };

/** Decides what a TaskSubmitted message means for the stored task. Pure. */
export function planDispatch(r: TaskRecord | null, msg: TaskSubmitted, now: Timestamp): DispatchDecision {
  const t = r?.task;
  if (!r || !t?.params) return { kind: "drop", reason: "no such task" };
  if (isTerminal(t.status)) return { kind: "drop", reason: "task already ended" };
  if (msg.attempt < t.attempt) return { kind: "drop", reason: "stale attempt" };
  // The scheduler publishes a retry before it writes the record; give the write a moment.
  if (msg.attempt > t.attempt) return { kind: "wait", delayMs: 200 };
  if (t.status !== TaskStatus.QUEUED) return { kind: "drop", reason: "already dispatched" };
  const wait = msg.notBefore ? timestampMs(msg.notBefore) - timestampMs(now) : 0;
  if (wait > 0) return { kind: "wait", delayMs: wait };
  const p = t.params;
  return {
    kind: "dispatch",
    pool: r.pool,
    job: create(GenerateJobSchema, {
      taskId: t.taskId,
      attempt: t.attempt,
      spec: {
        prompt: p.prompt,
        negativePrompt: p.negativePrompt,
        width: p.width,
        height: p.height,
        numFrames: p.numFrames,
        frameRate: p.frameRate,
        seed: p.seed,
      },
    }),
  };
}
