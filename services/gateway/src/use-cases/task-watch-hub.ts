import { clone } from "@bufbuild/protobuf";
import type { TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal } from "@t2v/common/task";
import type { QueueEstimateCache } from "../adapters/queue-estimate-cache.js";
import { createFanOut } from "../domain/fan-out.js";
import { createLatestSlot, type Snapshot } from "../domain/latest-snapshot.js";

/** The task as a stream sends it, and the record revision it came from (SSE's event id). */
export interface TaskState {
  readonly task: Task;
  readonly revision: number;
}

/** One stream's view of a task: the current state first, then every later one, coalesced while the stream is busy. */
export interface TaskFeed {
  /** The next state, waiting for one; null once `signal` aborts or the feed is closed. */
  next(signal: AbortSignal): Promise<Snapshot<TaskState> | null>;
  /** When a state began waiting for this stream to take it; undefined while none waits. */
  readonly pendingSinceMs: number | undefined;
  close(): void;
}

export interface TaskWatchHub {
  open(taskId: string): TaskFeed;
  /** Tasks with a watch open now (one store watch each, however many feeds). */
  watched(): number;
  /** Streams' feeds open now. */
  feeds(): number;
  /** Re-publishes a queued task's latest state with a new estimate (from the estimate cache). */
  estimateChanged(taskId: string, apply: (task: Task) => void): void;
}

/** After a failed store watch, it is opened again this much later while feeds remain. */
const REWATCH_MS = 1_000;

/**
 * One store watch per watched task in this gateway process, fanned out to
 * every stream on it. A new stream joining a running watch gets its latest
 * state at once; the first stream of a task starts the watch, which reads the
 * current record and then every later revision (the KV watch itself, so no
 * change falls between the read and the subscription). Each record becomes a
 * Task once (view, estimate) whatever the number of streams; a stream keeps
 * only the newest state it has not taken yet.
 */
export function createTaskWatchHub(deps: {
  tasks: Pick<TaskStore, "watch">;
  view: (r: TaskRecord) => Promise<Task>;
  estimates?: QueueEstimateCache;
  log: Logger;
  now?: () => number;
  rewatchMs?: number;
}): TaskWatchHub {
  const now = deps.now ?? Date.now;
  const fan = createFanOut<TaskState>();
  const watches = new Map<string, AbortController>();
  let feeds = 0;

  async function pump(taskId: string, signal: AbortSignal): Promise<void> {
    let lastRevision = 0;
    while (!signal.aborted) {
      try {
        for await (const stored of deps.tasks.watch(taskId, signal)) {
          // A watch opened again replays the current record: seen already.
          if (stored.revision <= lastRevision) continue;
          lastRevision = stored.revision;
          const task = await deps.view(stored.record);
          if (task.status === TaskStatus.QUEUED && deps.estimates) {
            deps.estimates.track(task);
            await deps.estimates.fill(task);
          } else deps.estimates?.untrack(taskId);
          if (signal.aborted) return;
          fan.publish(taskId, { task, revision: stored.revision }, isTerminal(task.status));
        }
      } catch (err) {
        if (!signal.aborted) deps.log.warn({ err, task_id: taskId }, "task watch failed; watching again");
      }
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deps.rewatchMs ?? REWATCH_MS);
        signal.addEventListener(
          "abort",
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  return {
    open(taskId) {
      const slot = createLatestSlot<TaskState>();
      let wake: (() => void) | undefined;
      let closed = false;
      const sub = {
        offer(s: Snapshot<TaskState>) {
          if (slot.offer(s, now())) wake?.();
        },
      };
      feeds++;
      if (fan.join(taskId, sub).first) {
        const ctl = new AbortController();
        watches.set(taskId, ctl);
        void pump(taskId, ctl.signal);
      }
      const close = (): void => {
        if (closed) return;
        closed = true;
        feeds--;
        wake?.();
        if (fan.leave(taskId, sub).last) {
          watches.get(taskId)?.abort();
          watches.delete(taskId);
          deps.estimates?.untrack(taskId);
        }
      };
      return {
        async next(signal) {
          for (;;) {
            if (closed || signal.aborted) return null;
            const s = slot.take();
            if (s) return s;
            await new Promise<void>((resolve) => {
              const done = (): void => {
                wake = undefined;
                signal.removeEventListener("abort", done);
                resolve();
              };
              wake = done;
              signal.addEventListener("abort", done, { once: true });
            });
          }
        },
        get pendingSinceMs() {
          return slot.pendingSinceMs;
        },
        close,
      };
    },
    watched: () => watches.size,
    feeds: () => feeds,
    estimateChanged(taskId, apply) {
      const latest = fan.latest(taskId);
      if (!latest || latest.value.task.status !== TaskStatus.QUEUED) return;
      const task = clone(TaskSchema, latest.value.task);
      apply(task);
      fan.publish(taskId, { task, revision: latest.value.revision }, false);
    },
  };
}
