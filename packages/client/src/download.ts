import { Code, ConnectError } from "@connectrpc/connect";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

/**
 * The finished MP4 of a COMPLETED task, streamed from its signed result_url
 * (no API key needed, so the link can also go straight into a <video>).
 */
export async function download(task: Task, options: DownloadOptions = {}): Promise<ReadableStream<Uint8Array>> {
  if (task.status !== TaskStatus.COMPLETED || task.resultUrl === "") {
    throw new ConnectError(`task ${task.taskId} has no video: it is not completed`, Code.FailedPrecondition);
  }
  const res = await (options.fetch ?? fetch)(task.resultUrl, { signal: options.signal });
  if (!res.ok || !res.body) {
    throw new ConnectError(`download of task ${task.taskId} failed: HTTP ${res.status}`, Code.Unavailable);
  }
  return res.body;
}
