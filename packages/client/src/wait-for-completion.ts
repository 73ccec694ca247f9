import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { Task, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { watchTask } from "./watch-task.js";

export interface WaitOptions {
  /** Called with every change of the task (status, step, queue position). */
  onProgress?: (task: Task) => void;
  /** Give up after this long: rejects with a DEADLINE_EXCEEDED ConnectError; the task goes on. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves with the task once it is COMPLETED, FAILED or CANCELLED (check
 * `status`: a failed task is an answer, not an error). Rejects on timeout,
 * abort, or an error a reconnect cannot fix.
 */
export async function waitForCompletion(
  client: Client<typeof VideoService>,
  taskId: string,
  options: WaitOptions = {},
): Promise<Task> {
  const stop = new AbortController();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            stop.abort(
              new ConnectError(`task ${taskId} did not finish in ${options.timeoutMs} ms`, Code.DeadlineExceeded),
            ),
          options.timeoutMs,
        );
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  try {
    let last: Task | undefined;
    for await (const ev of watchTask(client, taskId, { signal })) {
      if (!ev.task) continue;
      last = ev.task;
      options.onProgress?.(last);
    }
    if (!last) throw new ConnectError(`task ${taskId}: the watch ended without a state`, Code.Unavailable);
    return last;
  } catch (err) {
    if (signal.aborted) throw signal.reason ?? err;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
