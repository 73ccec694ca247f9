import type { Channels } from "@t2v/common/channels";
import type { QueueEstimate } from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { endTask, isTerminal } from "@t2v/common/task";
import { type QueuedTask, submitQueuedTask } from "@t2v/common/testing/queued-task";
import { waitUntil } from "./wait.js";

export interface DirectSubmit extends QueuedTask {
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
    submit: (o) => submitQueuedTask(ch, o),
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
