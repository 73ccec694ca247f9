import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { Channels } from "../channels/channels.js";
import { type TaskRecord, TaskRecordSchema } from "../gen/t2v/internal/v1/task_record_pb.js";
import { type GenerationParams, TaskStatus } from "../gen/t2v/v1/video_service_pb.js";
import { newTaskId } from "../task/index.js";

/** A task as a test asks for it; what it leaves out is the gateway's smallest 480p clip (3 s at 24 fps). */
export interface QueuedTask {
  tenant: string;
  pool?: string;
  prompt?: string;
  seed?: number;
  seedExplicit?: boolean;
  width?: number;
  height?: number;
  numFrames?: number;
  frameRate?: number;
  deadlineMs?: number;
  /** start_timeout's deadline: failed with START_TIMEOUT when not started by then. */
  startDeadlineMs?: number;
  /** Steps a RerunTask override asked for (0: the model's default). */
  requestedSteps?: number;
  /** What the gateway derives from the request (style template, draft, previews). */
  params?: Partial<Omit<GenerationParams, "$typeName" | "$unknown">>;
}

/** The record the gateway writes for a new task: QUEUED, attempt 1, the clip's parameters resolved. */
export function queuedTaskRecord(taskId: string, o: QueuedTask): TaskRecord {
  const now = timestampNow();
  const numFrames = o.numFrames ?? 72;
  const frameRate = o.frameRate ?? 24;
  const height = o.height ?? 480;
  const pool = o.pool ?? "standard";
  return create(TaskRecordSchema, {
    task: {
      taskId,
      status: TaskStatus.QUEUED,
      createTime: now,
      updateTime: now,
      attempt: 1,
      tier: pool,
      ...(o.deadlineMs !== undefined ? { deadline: timestampFromMs(o.deadlineMs) } : {}),
      ...(o.startDeadlineMs !== undefined ? { startDeadline: timestampFromMs(o.startDeadlineMs) } : {}),
      params: {
        prompt: o.prompt ?? `a task of ${o.tenant}`,
        negativePrompt: "blurry",
        resolution: height === 720 ? "720p" : "480p",
        width: o.width ?? (height === 720 ? 1280 : 832),
        height,
        duration: numFrames / frameRate,
        frameRate,
        numFrames,
        seed: o.seed ?? 1,
        seedExplicit: o.seedExplicit ?? false,
        ...o.params,
      },
    },
    tenantId: o.tenant,
    pool,
    requestedSteps: o.requestedSteps ?? 0,
  });
}

/**
 * Plays the gateway's part of a submit on the channels: the task's record,
 * then its submission (left out with `loseSubmission`, as if it had been
 * lost). Returns the new task's id.
 */
export async function submitQueuedTask(
  ch: Pick<Channels, "tasks" | "submissions">,
  o: QueuedTask & { loseSubmission?: boolean },
): Promise<string> {
  const taskId = newTaskId();
  const record = queuedTaskRecord(taskId, o);
  await ch.tasks.create(record);
  if (!o.loseSubmission) await ch.submissions.submit({ taskId, tenantId: o.tenant, pool: record.pool });
  return taskId;
}
