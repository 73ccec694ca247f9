import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { TaskEvent, VideoService } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTerminal } from "./task-status.js";

export interface WatchOptions {
  signal?: AbortSignal;
  /** Reconnects in a row without receiving an event before giving up (default 10). */
  maxReconnects?: number;
  /** First wait before reconnecting, doubled each time up to 10 s (default 500 ms). */
  reconnectDelayMs?: number;
}

/**
 * Errors a reconnect cannot fix: the task does not exist, the key is wrong, the request is malformed.
 * Not Canceled: a gateway that dies resets its HTTP/2 streams with CANCEL, which grpc reports as
 * Canceled; the caller's own abort is told apart by its signal.
 */
const PERMANENT = new Set([Code.NotFound, Code.InvalidArgument, Code.Unauthenticated, Code.PermissionDenied]);

/**
 * WatchTask as an async iterator that survives a dropped stream (gateway
 * restart, proxy idle timeout): it reconnects with backoff, and the server's
 * snapshot on reconnect fills in what was missed. Progress never goes
 * backwards across reconnects. Ends after a terminal state.
 */
export async function* watchTask(
  client: Client<typeof VideoService>,
  taskId: string,
  options: WatchOptions = {},
): AsyncGenerator<TaskEvent> {
  const maxReconnects = options.maxReconnects ?? 10;
  const baseDelay = options.reconnectDelayMs ?? 500;
  let failures = 0;
  let lastProgress = -1;
  let lastError: ConnectError | undefined;
  for (;;) {
    try {
      for await (const ev of client.watchTask({ taskId }, { signal: options.signal })) {
        failures = 0;
        const task = ev.task;
        if (!task) continue;
        // A snapshot after a reconnect repeats the state we already had.
        if (task.progress < lastProgress && !isTerminal(task.status)) continue;
        lastProgress = task.progress;
        yield ev;
        if (isTerminal(task.status)) return;
      }
      // The server ended the stream without a terminal state (shutdown): reconnect.
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      lastError = ConnectError.from(err);
      if (PERMANENT.has(lastError.code)) throw lastError;
    }
    failures++;
    if (failures > maxReconnects) {
      throw lastError ?? new ConnectError(`watch of task ${taskId} kept ending early`, Code.Unavailable);
    }
    await delay(Math.min(10_000, baseDelay * 2 ** (failures - 1)), options.signal);
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(t);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
