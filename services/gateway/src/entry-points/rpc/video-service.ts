import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskEventSchema, type VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { linkSignals } from "@t2v/common/process";
import { applyEstimate, type Estimator } from "../../adapters/queue-estimates.js";
import { invalidArgument } from "../../domain/rpc-errors.js";
import type { CancelTask } from "../../use-cases/cancel-task.js";
import type { ControlTask } from "../../use-cases/control-task.js";
import type { CreatedTask, CreateTask } from "../../use-cases/create-task.js";
import type { DeleteTask } from "../../use-cases/delete-task.js";
import type { GetTaskForCaller } from "../../use-cases/get-task-for-caller.js";
import type { ListTasks } from "../../use-cases/list-tasks.js";
import type { RerunTask } from "../../use-cases/rerun-task.js";
import type { WatchTask } from "../../use-cases/watch-task.js";
import { callerOf } from "./caller-context.js";
import { streamTransportKey } from "./stream-transport.js";
import { wrapStream } from "./wrapped-stream.js";

export interface VideoServiceDeps {
  createTask: CreateTask;
  getTask: GetTaskForCaller;
  cancelTask: CancelTask;
  controlTask: ControlTask;
  deleteTask: DeleteTask;
  listTasks: ListTasks;
  watchTask: WatchTask;
  rerunTask: RerunTask;
  view: (record: TaskRecord) => Promise<Task>;
  estimate: Estimator;
  /** Aborts on shutdown: open WatchTask streams then end cleanly. */
  stopping: AbortSignal;
}

/**
 * t2v.v1.VideoService over the use cases. Requests reach these handlers only
 * after `contractInterceptor` has checked them against the protovalidate
 * rules of the .proto, and `authInterceptor` has set the caller.
 */
export function createVideoService(deps: VideoServiceDeps): ServiceImpl<typeof VideoService> {
  const { view } = deps;

  async function viewWithEstimates(records: TaskRecord[]): Promise<Task[]> {
    const out = await Promise.all(records.map(view));
    await deps.estimate(out);
    return out;
  }

  async function one(record: TaskRecord): Promise<Task> {
    const [task] = await viewWithEstimates([record]);
    if (!task) throw new Error("no task");
    return task;
  }

  /** A new task: with where the scheduler said it will stand when it was created, or asked now (a replayed create). */
  async function created(c: CreatedTask): Promise<Task> {
    if (!c.estimate) return one(c.record);
    const task = await view(c.record);
    applyEstimate(task, c.estimate);
    return task;
  }

  return {
    async createTask(req, ctx) {
      const header = ctx.requestHeader.get("idempotency-key");
      if (header !== null && req.idempotencyKey !== "" && header !== req.idempotencyKey)
        throw invalidArgument([
          { field: "idempotency_key", description: "differs from the Idempotency-Key header; send one or the same" },
        ]);
      if (header !== null) req.idempotencyKey = header;
      return created(await deps.createTask(callerOf(ctx), req));
    },

    async getTask(req, ctx) {
      return one((await deps.getTask(callerOf(ctx), req.taskId)).record);
    },

    async cancelTask(req, ctx) {
      return view(await deps.cancelTask(callerOf(ctx), req.taskId));
    },

    async pauseTask(req, ctx) {
      return view(await deps.controlTask.pauseTask(callerOf(ctx), req.taskId));
    },

    async resumeTask(req, ctx) {
      return one(await deps.controlTask.resumeTask(callerOf(ctx), req.taskId));
    },

    async updateTaskPriority(req, ctx) {
      return one(await deps.controlTask.updateTaskPriority(callerOf(ctx), req.taskId, req.priority));
    },

    async deleteTask(req, ctx) {
      return view(await deps.deleteTask(callerOf(ctx), req.taskId));
    },

    async listTasks(req, ctx) {
      const page = await deps.listTasks(callerOf(ctx), req);
      return { tasks: await viewWithEstimates(page.items), nextPageToken: page.next };
    },

    watchTask(req, ctx) {
      // Unlinked at the latest when the call ends: connect aborts ctx.signal then.
      const linked = linkSignals([ctx.signal, deps.stopping]);
      const events = deps.watchTask(callerOf(ctx), req.taskId, linked.signal, ctx.values.get(streamTransportKey));
      return wrapStream(events, {
        map: (ev) => create(TaskEventSchema, { task: ev.task, eventTime: timestampNow(), preview: ev.preview }),
        ended: () => linked.dispose(),
      });
    },

    async rerunTask(req, ctx) {
      return created(await deps.rerunTask(callerOf(ctx), req.taskId, req.overrides));
    },
  };
}
