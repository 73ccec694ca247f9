import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  endTask,
  invalidArgument,
  isTaskId,
  isTerminal,
  type Logger,
  notFound,
  type StoredTask,
  Subjects,
  type TaskStore,
} from "@t2v/common";
import { CancelRequestedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskEventSchema, TaskStatus, type VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { type Caller, callerKey } from "./auth/caller.js";
import { decodePageToken, filteredPage } from "./domain/page-token.js";
import type { CreateTask } from "./tasks/create-task.js";
import { notifyChange } from "./tasks/notify-change.js";
import type { Estimator } from "./tasks/queue-estimates.js";
import { watchTaskEvents } from "./tasks/watch-task-events.js";

export interface VideoServiceDeps {
  tasks: TaskStore;
  js: JetStreamClient;
  nc: NatsConnection;
  log: Logger;
  createTask: CreateTask;
  view: (record: TaskRecord) => Task;
  estimate: Estimator;
  /** Aborts on shutdown: open WatchTask streams then end cleanly. */
  stopping: AbortSignal;
}

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

export function createVideoService(deps: VideoServiceDeps): ServiceImpl<typeof VideoService> {
  const { tasks, log, view } = deps;

  function callerOf(ctx: HandlerContext): Caller {
    const caller = ctx.values.get(callerKey);
    if (!caller) throw new ConnectError("missing API key", Code.Unauthenticated);
    return caller;
  }

  /**
   * Requests reach the handlers only after `contractInterceptor` has checked
   * them against the protovalidate rules of the .proto (task_id 1..64
   * characters, page_size 0..1000, a known status, ...).
   *
   * NOT_FOUND for malformed, missing and other tenants' ids alike: nothing tells them apart. */
  async function load(caller: Caller, taskId: string): Promise<StoredTask> {
    const found = isTaskId(taskId) ? await tasks.get(taskId) : null;
    if (!found || found.record.tenantId !== caller.tenantId) throw notFound(`task ${taskId}`);
    return found;
  }

  async function viewWithEstimates(records: TaskRecord[]): Promise<Task[]> {
    const out = records.map(view);
    await deps.estimate(out);
    return out;
  }

  return {
    async createTask(req, ctx) {
      const header = ctx.requestHeader.get("idempotency-key");
      if (header !== null && req.idempotencyKey !== "" && header !== req.idempotencyKey)
        throw invalidArgument([
          { field: "idempotency_key", description: "differs from the Idempotency-Key header; send one or the same" },
        ]);
      if (header !== null) req.idempotencyKey = header;
      const record = await deps.createTask(callerOf(ctx), req);
      const [task] = await viewWithEstimates([record]);
      if (!task) throw new Error("no task");
      return task;
    },

    async getTask(req, ctx) {
      const [task] = await viewWithEstimates([(await load(callerOf(ctx), req.taskId)).record]);
      if (!task) throw new Error("no task");
      return task;
    },

    async cancelTask(req, ctx) {
      const current = await load(callerOf(ctx), req.taskId);
      const updated = await tasks.update(req.taskId, (r) => endTask(r, TaskStatus.CANCELLED));
      if (!updated) return view((await tasks.get(req.taskId))?.record ?? current.record);
      deps.nc.publish(
        Subjects.cancel,
        toBinary(CancelRequestedSchema, create(CancelRequestedSchema, { taskId: req.taskId })),
      );
      try {
        await notifyChange(deps.js, updated.record);
      } catch (err) {
        // The cancel stands; only its webhook is lost.
        log.warn({ err, task_id: req.taskId }, "could not publish the cancel notification");
      }
      log.info({ task_id: req.taskId }, "task cancelled");
      return view(updated.record);
    },

    async listTasks(req, ctx) {
      const caller = callerOf(ctx);
      const size = Math.min(req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize, MAX_PAGE_SIZE);
      const after = req.pageToken === "" ? null : decodePageToken(req.pageToken);
      if (req.pageToken !== "" && (after === null || !isTaskId(after)))
        throw invalidArgument([{ field: "page_token", description: "is not a token from a previous response" }]);
      const page = await filteredPage(
        await tasks.idsOf(caller.tenantId),
        size,
        after,
        async (id) => (await tasks.get(id))?.record ?? null,
        (r) =>
          r.tenantId === caller.tenantId && (req.status === TaskStatus.UNSPECIFIED || r.task?.status === req.status),
      );
      return { tasks: await viewWithEstimates(page.items), nextPageToken: page.next };
    },

    async *watchTask(req, ctx) {
      await load(callerOf(ctx), req.taskId);
      const signal = AbortSignal.any([ctx.signal, deps.stopping]);
      for await (const task of watchTaskEvents(req.taskId, { tasks, view, estimate: deps.estimate, signal })) {
        yield create(TaskEventSchema, { task, eventTime: timestampNow() });
        if (isTerminal(task.status)) return;
      }
    },
  };
}
