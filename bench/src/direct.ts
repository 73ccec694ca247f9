import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { Channels } from "@t2v/common/channels";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTerminal, newTaskId } from "@t2v/common/task";

export interface DirectTask {
  tenant: string;
  pool: string;
  numFrames: number;
  frameRate: number;
  width?: number;
  height?: number;
  status?: TaskStatus;
  /** Write the record only (no submission): a record for WatchTask streams, not work. */
  recordOnly?: boolean;
}

/**
 * Plays the gateway's part on the channels (task record, then the
 * submission), as test/support/direct-tasks.ts does, to queue work fast.
 */
export async function submitDirect(ch: Channels, o: DirectTask): Promise<string> {
  const taskId = newTaskId();
  const now = timestampNow();
  await ch.tasks.create(
    create(TaskRecordSchema, {
      task: {
        taskId,
        status: o.status ?? TaskStatus.QUEUED,
        createTime: now,
        updateTime: now,
        attempt: 1,
        tier: o.pool,
        params: {
          prompt: `bench task of ${o.tenant}`,
          negativePrompt: "blurry",
          resolution: (o.height ?? 480) >= 720 ? "720p" : "480p",
          width: o.width ?? 832,
          height: o.height ?? 480,
          duration: o.numFrames / o.frameRate,
          frameRate: o.frameRate,
          numFrames: o.numFrames,
          seed: 1,
        },
      },
      tenantId: o.tenant,
      pool: o.pool,
    }),
  );
  if (!o.recordOnly) await ch.submissions.submit({ taskId, tenantId: o.tenant, pool: o.pool });
  return taskId;
}

export async function getRecord(ch: Channels, taskId: string): Promise<TaskRecord> {
  const s = await ch.tasks.get(taskId);
  if (!s) throw new Error(`no task ${taskId}`);
  return s.record;
}

export async function waitRecord(
  ch: Channels,
  taskId: string,
  done: (r: TaskRecord) => boolean,
  timeoutMs = 120_000,
  pollMs = 20,
): Promise<TaskRecord> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await getRecord(ch, taskId);
    if (done(r)) return r;
    if (Date.now() > until)
      throw new Error(`task ${taskId} not done in ${timeoutMs} ms (${TaskStatus[r.task?.status ?? 0]})`);
    await delay(pollMs);
  }
}

export const ended = (r: TaskRecord): boolean => !!r.task && isTerminal(r.task.status);

/** Epoch ms of the record's first denoising step (its updateTime when currentStep first reads >= 1). */
export async function firstStepAt(ch: Channels, taskId: string): Promise<number> {
  const r = await waitRecord(ch, taskId, (x) => (x.task?.currentStep ?? 0) >= 1 || ended(x));
  return r.task?.updateTime ? timestampMs(r.task.updateTime) : Date.now();
}

/** Submits `count` tasks, `parallel` at a time. */
export async function fill(ch: Channels, count: number, o: (i: number) => DirectTask, parallel = 200): Promise<void> {
  for (let i = 0; i < count; i += parallel)
    await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, k) => submitDirect(ch, o(i + k))));
}
