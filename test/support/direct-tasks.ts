import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { endTask, isTerminal, newTaskId, openStores, publishProto, Subjects, type TaskStore } from "@t2v/common";
import { CancelRequestedSchema, TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import {
  type QueueEstimate,
  QueueEstimatesRequestSchema,
  QueueEstimatesResponseSchema,
} from "@t2v/common/gen/t2v/internal/v1/scheduler_queries_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

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
 * Talks to the scheduler the way the gateway does (task record, then a
 * submission on JetStream), so scheduling can be tested for any tenant and
 * pool without going through authentication.
 */
export interface DirectTasks {
  nc: NatsConnection;
  tasks: TaskStore;
  submit(o: DirectSubmit): Promise<string>;
  get(taskId: string): Promise<TaskRecord>;
  cancel(taskId: string): Promise<void>;
  waitFor(taskId: string, done: (r: TaskRecord) => boolean, timeoutMs?: number): Promise<TaskRecord>;
  /** Waits until the task has ended, however it ended. */
  waitForEnd(taskId: string, timeoutMs?: number): Promise<TaskRecord>;
  estimates(taskIds: string[]): Promise<QueueEstimate[]>;
  close(): Promise<void>;
}

export async function directTasks(natsUrl: string): Promise<DirectTasks> {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const { tasks } = await openStores(nc, { videoTtlHours: 1 });
  const js = jetstream(nc);

  const get = async (taskId: string): Promise<TaskRecord> => {
    const s = await tasks.get(taskId);
    if (!s) throw new Error(`no task ${taskId}`);
    return s.record;
  };

  const waitFor: DirectTasks["waitFor"] = async (taskId, done, timeoutMs = 60_000) => {
    const until = Date.now() + timeoutMs;
    let last: TaskRecord | undefined;
    while (Date.now() < until) {
      // A read may time out while NATS restarts; keep asking until the deadline.
      last = await get(taskId).catch(() => last);
      if (last && done(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    const t = last?.task;
    throw new Error(
      `task ${taskId} not done in ${timeoutMs} ms; last: ${t ? TaskStatus[t.status] : "none"} ${t?.errorMessage ?? ""}`,
    );
  };

  return {
    nc,
    tasks,
    async submit(o) {
      const taskId = newTaskId();
      const now = timestampNow();
      const numFrames = o.numFrames ?? 72;
      const frameRate = o.frameRate ?? 24;
      await tasks.create(
        create(TaskRecordSchema, {
          task: {
            taskId,
            status: TaskStatus.QUEUED,
            createTime: now,
            updateTime: now,
            attempt: 1,
            tier: o.pool ?? "standard",
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
          pool: o.pool ?? "standard",
        }),
      );
      if (o.loseSubmission) return taskId;
      await publishProto(
        js,
        Subjects.submit(o.pool ?? "standard"),
        TaskSubmittedSchema,
        create(TaskSubmittedSchema, { taskId, tenantId: o.tenant, pool: o.pool ?? "standard", attempt: 1 }),
        { msgId: `submit:${taskId}:1`, taskId },
      );
      return taskId;
    },
    get,
    async cancel(taskId) {
      await tasks.update(taskId, (r) => endTask(r, TaskStatus.CANCELLED));
      nc.publish(Subjects.cancel, toBinary(CancelRequestedSchema, create(CancelRequestedSchema, { taskId })));
    },
    waitFor,
    waitForEnd: (taskId, timeoutMs = 60_000) =>
      waitFor(taskId, (r) => !!r.task && isTerminal(r.task.status), timeoutMs),
    async estimates(taskIds) {
      // A scheduler between leader terms does not answer for a moment; ask again.
      for (let i = 0; ; i++) {
        try {
          const res = await nc.request(
            Subjects.estimates,
            toBinary(QueueEstimatesRequestSchema, create(QueueEstimatesRequestSchema, { taskIds })),
            { timeout: 2_000 },
          );
          return fromBinary(QueueEstimatesResponseSchema, res.data).estimates;
        } catch (err) {
          if (i >= 10) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    async close() {
      await nc.drain();
    },
  };
}
