import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { Channels } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, isTerminal, newTaskId } from "@t2v/common/task";
import { waitUntil } from "./wait.js";

export interface DirectSubmit {
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
  /** Write the record only, as if the submission message had been lost. */
  loseSubmission?: boolean;
}

/**
 * Plays the gateway's part on the channels (task record, then the
 * submission; cancel; queue-estimate requests), so scheduling can be tested
 * for any tenant and pool without going through authentication.
 */
export interface DirectTasks {
  submit(o: DirectSubmit): Promise<string>;
  get(taskId: string): Promise<TaskRecord>;
  cancel(taskId: string): Promise<void>;
  waitFor(taskId: string, done: (r: TaskRecord) => boolean, timeoutMs?: number): Promise<TaskRecord>;
  /** Waits until the task has ended, however it ended. */
  waitForEnd(taskId: string, timeoutMs?: number): Promise<TaskRecord>;
  /** Asks the leading scheduler; asks again while no scheduler answers (between leader terms). */
  estimates(taskIds: string[]): Promise<QueueEstimate[]>;
}

const ESTIMATE_TIMEOUT_MS = 2_000;
const ESTIMATE_TRIES = 10;

export function directTasks(ch: Channels): DirectTasks {
  const get = async (taskId: string): Promise<TaskRecord> => {
    const s = await ch.tasks.get(taskId);
    if (!s) throw new Error(`no task ${taskId}`);
    return s.record;
  };

  const waitFor: DirectTasks["waitFor"] = (taskId, done, timeoutMs = 60_000) =>
    waitUntil(() => get(taskId), done, {
      timeoutMs,
      what: `task ${taskId}`,
      show: (r) => `${r.task ? TaskStatus[r.task.status] : "none"} ${r.task?.errorMessage ?? ""}`,
    });

  return {
    async submit(o) {
      const taskId = newTaskId();
      const now = timestampNow();
      const numFrames = o.numFrames ?? 72;
      const frameRate = o.frameRate ?? 24;
      const pool = o.pool ?? "standard";
      await ch.tasks.create(
        create(TaskRecordSchema, {
          task: {
            taskId,
            status: TaskStatus.QUEUED,
            createTime: now,
            updateTime: now,
            attempt: 1,
            tier: pool,
            ...(o.deadlineMs !== undefined ? { deadline: timestampFromMs(o.deadlineMs) } : {}),
            params: {
              prompt: o.prompt ?? `task of ${o.tenant}`,
              negativePrompt: "blurry",
              resolution: "480p",
              width: o.width ?? 832,
              height: o.height ?? 480,
              duration: numFrames / frameRate,
              frameRate,
              numFrames,
              seed: o.seed ?? 1,
              seedExplicit: o.seedExplicit ?? false,
            },
          },
          tenantId: o.tenant,
          pool,
        }),
      );
      if (!o.loseSubmission) await ch.submissions.submit({ taskId, tenantId: o.tenant, pool });
      return taskId;
    },
    get,
    async cancel(taskId) {
      await ch.tasks.update(taskId, (r) => endTask(r, TaskStatus.CANCELLED));
      ch.cancellations.broadcast(taskId);
    },
    waitFor,
    waitForEnd: (taskId, timeoutMs = 60_000) =>
      waitFor(taskId, (r) => !!r.task && isTerminal(r.task.status), timeoutMs),
    async estimates(taskIds) {
      for (let i = 1; ; i++) {
        try {
          return await ch.queueEstimates.request(taskIds, ESTIMATE_TIMEOUT_MS);
        } catch (err) {
          if (i >= ESTIMATE_TRIES) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
  };
}
