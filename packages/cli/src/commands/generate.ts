import {
  type CreateTaskInput,
  createNodeClient,
  downloadToFile,
  type NodeProtocol,
  statusName,
} from "@t2v/client/node";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { progressPrinter, type Terminal, taskProgressLine } from "../cli/progress-bar.js";

export type { Terminal } from "../cli/progress-bar.js";

export interface GenerateOptions {
  server: string;
  protocol: NodeProtocol;
  apiKey: string;
  prompt: string;
  negativePrompt?: string;
  resolution?: string;
  duration?: number;
  frameRate?: number;
  seed?: number;
  style?: string;
  idempotencyKey?: string;
  /** Where to write the MP4; <task id>.mp4 by default. */
  out?: string;
  /** Stop waiting after this long (the task goes on). */
  timeoutMs?: number;
}

/** The task ended but did not complete: exit code 5. */
export class TaskNotCompletedError extends Error {
  constructor(readonly task: Task) {
    super(`task ${task.taskId} ${statusName(task.status)}: ${task.errorMessage || "no reason given"}`);
  }
}

/** Submits a task, follows WatchTask with a progress bar and ETA, and downloads the MP4. */
export async function generate(o: GenerateOptions, term: Terminal): Promise<{ task: Task; file: string }> {
  const client = createNodeClient({ baseUrl: o.server, apiKey: o.apiKey, protocol: o.protocol });
  const request: CreateTaskInput = {
    prompt: o.prompt,
    negativePrompt: o.negativePrompt ?? "",
    resolution: o.resolution ?? "",
    style: o.style ?? "",
    idempotencyKey: o.idempotencyKey ?? "",
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    ...(o.frameRate !== undefined ? { frameRate: o.frameRate } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  };
  const created = await client.createTask(request);
  term.write(`task ${created.taskId} queued (seed ${created.params?.seed}, ${created.params?.numFrames} frames)\n`);
  const progress = progressPrinter(term);
  progress.show(taskProgressLine(created));
  let task: Task;
  try {
    task = await client.waitForCompletion(created.taskId, {
      onProgress: (t) => progress.show(taskProgressLine(t)),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
  } finally {
    progress.done();
  }
  if (task.status !== TaskStatus.COMPLETED) throw new TaskNotCompletedError(task);
  const file = o.out ?? `${task.taskId}.mp4`;
  await downloadToFile(client, task, file);
  term.write(`wrote ${file}\n`);
  return { task, file };
}
