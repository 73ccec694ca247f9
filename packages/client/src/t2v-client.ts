import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  type CreateTaskRequestSchema,
  type ListTasksRequestSchema,
  type ListTasksResponse,
  type Task,
  type TaskEvent,
  VideoService,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import { type DownloadOptions, download } from "./download.js";
import { callTaskMethod, type OptionalMethodName, supportsMethod } from "./optional-methods.js";
import { type WaitOptions, waitForCompletion } from "./wait-for-completion.js";
import { type WatchOptions, watchTask } from "./watch-task.js";

export type CreateTaskInput = MessageInitShape<typeof CreateTaskRequestSchema>;
export type ListTasksInput = MessageInitShape<typeof ListTasksRequestSchema>;

export interface T2vClient {
  /** The generated Connect client, for anything the helpers below do not cover. */
  readonly rpc: Client<typeof VideoService>;
  readonly transport: Transport;
  createTask(request: CreateTaskInput, options?: CallOptions): Promise<Task>;
  getTask(taskId: string, options?: CallOptions): Promise<Task>;
  listTasks(request?: ListTasksInput, options?: CallOptions): Promise<ListTasksResponse>;
  cancelTask(taskId: string, options?: CallOptions): Promise<Task>;
  /** Removes the task's video, poster and intermediates (cancelling it first); it then reads as DELETED. */
  deleteTask(taskId: string, options?: CallOptions): Promise<Task>;
  /** Every change of the task until it ends, reconnecting after a dropped stream. */
  watch(taskId: string, options?: WatchOptions): AsyncGenerator<TaskEvent>;
  /** The task once it has ended, whatever its status. */
  waitForCompletion(taskId: string, options?: WaitOptions): Promise<Task>;
  /** The MP4 of a completed task. */
  download(task: Task, options?: DownloadOptions): Promise<ReadableStream<Uint8Array>>;
  /** Whether the server's API version (as generated into this build) has the method. */
  supports(method: OptionalMethodName): boolean;
  /** Rejects with UNIMPLEMENTED where `supports("pauseTask")` is false. */
  pauseTask(taskId: string, signal?: AbortSignal): Promise<Task>;
  resumeTask(taskId: string, signal?: AbortSignal): Promise<Task>;
}

/** The SDK over any Connect transport (pick one per environment: `createNodeClient`, `createBrowserClient`). */
export function createT2vClient(transport: Transport): T2vClient {
  const rpc = createClient(VideoService, transport);
  return {
    rpc,
    transport,
    createTask: (request, options) => rpc.createTask(request, options),
    getTask: (taskId, options) => rpc.getTask({ taskId }, options),
    listTasks: (request = {}, options) => rpc.listTasks(request, options),
    cancelTask: (taskId, options) => rpc.cancelTask({ taskId }, options),
    deleteTask: (taskId, options) => rpc.deleteTask({ taskId }, options),
    watch: (taskId, options) => watchTask(rpc, taskId, options),
    waitForCompletion: (taskId, options) => waitForCompletion(rpc, taskId, options),
    download: (task, options) => download(task, options),
    supports: supportsMethod,
    pauseTask: (taskId, signal) => callTaskMethod(transport, "pauseTask", taskId, signal),
    resumeTask: (taskId, signal) => callTaskMethod(transport, "resumeTask", taskId, signal),
  };
}
