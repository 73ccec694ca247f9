import type { Previews } from "@t2v/common/channels";
import type { Preview, Task } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTerminal } from "@t2v/common/task";
import type { Caller } from "../domain/caller.js";
import type { GetTaskForCaller } from "./get-task-for-caller.js";
import type { TaskWatchHub } from "./task-watch-hub.js";
import type { StreamTransport, WatchStreams } from "./watch-streams.js";

/** One event of a watch: the task as it stands, and a preview image when that is what happened. */
export interface WatchEvent {
  task: Task;
  preview?: Preview;
}

export type WatchTask = (
  caller: Caller,
  taskId: string,
  signal: AbortSignal,
  transport?: StreamTransport,
) => AsyncGenerator<WatchEvent>;

/** Previews waiting for the stream beyond this are dropped, oldest first: a slow reader gets the latest. */
const MAX_WAITING_PREVIEWS = 2;

/**
 * The caller's task as it changes: the current state first, then every later
 * one up to the terminal state, from the gateway's shared watch of the task
 * (`TaskWatchHub`; a busy stream skips intermediate states, never the last),
 * with its queue position and ETA while queued; with the previews of its
 * current attempt in between when the task asked for them
 * (preview_every_steps), and never otherwise. Counted against the key's and
 * tenant's stream caps; ends with the lease's error when the key is revoked
 * or the reader falls behind.
 */
export function watchTaskUseCase(deps: {
  getTask: GetTaskForCaller;
  hub: Pick<TaskWatchHub, "open">;
  streams: Pick<WatchStreams, "open">;
  previews: Pick<Previews, "subscribe">;
}): WatchTask {
  /**
   * Joins the task's watch before the caller's read of the task, which is then its first state: a
   * change written after the read reaches the feed, one before it is in what was read (one read
   * per stream, not two). Outside the stream's generator, whose frame would otherwise keep the
   * record read here for the stream's life: only whether it asked for previews is kept.
   */
  async function openFeed(caller: Caller, taskId: string, transport: StreamTransport | undefined) {
    const feed = deps.hub.open(taskId, { seeded: true });
    try {
      const found = await deps.getTask(caller, taskId);
      const lease = deps.streams.open(caller, transport);
      feed.seed(found);
      return { feed, lease, wantsPreviews: (found.record.task?.params?.previewEverySteps ?? 0) > 0 };
    } catch (err) {
      feed.close();
      throw err;
    }
  }

  return async function* watchTask(caller, taskId, signal, transport) {
    const { feed, lease, wantsPreviews } = await openFeed(caller, taskId, transport);
    lease.follow(feed);
    const stop = AbortSignal.any([signal, lease.signal]);
    const previews = wantsPreviews ? previewBox((on) => deps.previews.subscribe(taskId, on)) : undefined;
    let last: Task | undefined;
    try {
      for (;;) {
        const item = last && previews?.take();
        if (item && last) {
          if (item.attempt === last.attempt && !isTerminal(last.status)) yield { task: last, preview: item.preview };
          continue;
        }
        // Previews wake the wait only once there is a state to send them with.
        const s =
          previews && last
            ? await previews.race((woken) => feed.next(AbortSignal.any([stop, woken])))
            : await feed.next(stop);
        if (!s) {
          if (lease.signal.aborted) throw lease.signal.reason;
          if (stop.aborted) return;
          continue; // a preview arrived
        }
        last = s.value.task;
        yield { task: last };
        if (s.terminal) return;
      }
    } finally {
      previews?.unsubscribe();
      feed.close();
      lease.close();
    }
  };
}

interface PreviewBox {
  take(): { preview: Preview; attempt: number } | undefined;
  /** Runs `wait` with a signal that aborts as soon as a preview is waiting. */
  race<T>(wait: (woken: AbortSignal) => Promise<T>): Promise<T>;
  unsubscribe(): void;
}

function previewBox(
  subscribe: (on: (preview: Preview, attempt: number) => void) => { unsubscribe(): void },
): PreviewBox {
  const waiting: Array<{ preview: Preview; attempt: number }> = [];
  let wake: AbortController | undefined;
  const sub = subscribe((preview, attempt) => {
    waiting.push({ preview, attempt });
    if (waiting.length > MAX_WAITING_PREVIEWS) waiting.shift();
    wake?.abort();
  });
  return {
    take: () => waiting.shift(),
    async race(wait) {
      wake = new AbortController();
      if (waiting.length > 0) wake.abort();
      try {
        return await wait(wake.signal);
      } finally {
        wake = undefined;
      }
    },
    unsubscribe: () => sub.unsubscribe(),
  };
}
