import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  endTask,
  invalidArgument,
  isTaskId,
  isTerminal,
  type Logger,
  newTaskId,
  notFound,
  publishProto,
  type StoredTask,
  Subjects,
  type TaskStore,
} from "@t2v/common";
import { CancelRequestedSchema, TaskSubmittedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";
import { type TaskRecord, TaskRecordSchema } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { TaskEventSchema, TaskStatus, type VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { normalizeCreateRequest } from "./domain/normalize-create-request.js";
import { decodePageToken, pageOfIds } from "./domain/page-token.js";
import { publicTask } from "./domain/public-task.js";

export interface VideoServiceDeps {
  tasks: TaskStore;
  js: JetStreamClient;
  nc: NatsConnection;
  publicBaseUrl: string;
  log: Logger;
  randomSeed: () => number;
}

/** Until API keys arrive every caller is this tenant, served by the standard pool. */
const DEFAULT_TENANT = "default";
const DEFAULT_POOL = "standard";
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

export function createVideoService(deps: VideoServiceDeps): ServiceImpl<typeof VideoService> {
  const { tasks, log } = deps;
  const view = (r: TaskRecord) => publicTask(r, deps.publicBaseUrl);

  /** NOT_FOUND for malformed, missing and (later) other tenants' ids alike. */
  async function load(taskId: string): Promise<StoredTask> {
    if (taskId === "") throw invalidArgument([{ field: "task_id", description: "is required" }]);
    const found = isTaskId(taskId) ? await tasks.get(taskId) : null;
    if (!found || found.record.tenantId !== DEFAULT_TENANT) throw notFound(`task ${taskId}`);
    return found;
  }

  return {
    async createTask(req) {
      const result = normalizeCreateRequest(req, deps.randomSeed);
      if (!result.ok) throw invalidArgument(result.violations);
      const now = timestampNow();
      const taskId = newTaskId();
      const record = create(TaskRecordSchema, {
        task: {
          taskId,
          status: TaskStatus.QUEUED,
          progress: 0,
          createTime: now,
          updateTime: now,
          params: result.params,
          attempt: 1,
        },
        tenantId: DEFAULT_TENANT,
        pool: DEFAULT_POOL,
      });
      await tasks.create(record);
      try {
        await publishProto(
          deps.js,
          Subjects.submit(DEFAULT_POOL),
          TaskSubmittedSchema,
          create(TaskSubmittedSchema, { taskId, tenantId: DEFAULT_TENANT, pool: DEFAULT_POOL, attempt: 1 }),
          `submit:${taskId}:1`,
        );
      } catch (err) {
        log.error({ err, task_id: taskId }, "could not queue task");
        await tasks.update(taskId, (r) =>
          endTask(r, TaskStatus.FAILED, { errorMessage: "could not be queued; please retry" }),
        );
        throw new ConnectError("the task queue is unavailable; please retry", Code.Unavailable);
      }
      log.info(
        { task_id: taskId, resolution: result.params.resolution, frames: result.params.numFrames },
        "task queued",
      );
      return view(record);
    },

    async getTask(req) {
      return view((await load(req.taskId)).record);
    },

    async cancelTask(req) {
      const current = await load(req.taskId);
      const updated = await tasks.update(req.taskId, (r) => endTask(r, TaskStatus.CANCELLED));
      if (updated) {
        deps.nc.publish(
          Subjects.cancel,
          toBinary(CancelRequestedSchema, create(CancelRequestedSchema, { taskId: req.taskId })),
        );
        log.info({ task_id: req.taskId }, "task cancelled");
        return view(updated.record);
      }
      return view((await tasks.get(req.taskId))?.record ?? current.record);
    },

    async listTasks(req) {
      if (req.pageSize < 0) throw invalidArgument([{ field: "page_size", description: "must not be negative" }]);
      const size = Math.min(req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize, MAX_PAGE_SIZE);
      const after = req.pageToken === "" ? null : decodePageToken(req.pageToken);
      if (req.pageToken !== "" && after === null)
        throw invalidArgument([{ field: "page_token", description: "is not a token from a previous response" }]);
      const page = pageOfIds(await tasks.ids(), size, after);
      const found = await Promise.all(page.items.map((id) => tasks.get(id)));
      return {
        tasks: found.flatMap((s) => (s && s.record.tenantId === DEFAULT_TENANT ? [view(s.record)] : [])),
        nextPageToken: page.next,
      };
    },

    async *watchTask(req, ctx) {
      await load(req.taskId);
      for await (const { record } of tasks.watch(req.taskId, ctx.signal)) {
        const task = view(record);
        yield create(TaskEventSchema, { task, eventTime: timestampNow() });
        if (isTerminal(task.status)) return;
      }
    },
  };
}
