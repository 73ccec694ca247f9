import { clone } from "@bufbuild/protobuf";
import { keyedSerial, type StoredTask, type TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { isTerminal } from "@t2v/common/task";
import type { QueueEstimateCache } from "../adapters/queue-estimate-cache.js";
import { createFanOut, type FanOutSubscriber } from "../domain/fan-out.js";
import { LatestSlot, type Snapshot } from "../domain/latest-snapshot.js";

/** The task as a stream sends it, and the record revision it came from (SSE's event id). */
export interface TaskState {
  readonly task: Task;
  readonly revision: number;
}

/** One stream's view of a task: the current state first, then every later one, coalesced while the stream is busy. */
export interface TaskFeed {
  /** The next state, waiting for one; null once `signal` aborts or the feed is closed. */
  next(signal: AbortSignal): Promise<Snapshot<TaskState> | null>;
  /** Offers a record its opener read after opening (see `open`'s `seeded`); older revisions are dropped. */
  seed(stored: StoredTask): void;
  /** When a state began waiting for this stream to take it; undefined while none waits. */
  readonly pendingSinceMs: number | undefined;
  close(): void;
}

export interface TaskWatchHub {
  /**
   * Joins the task's watch. The first feed of a task reads its record, unless `seeded`: its opener
   * reads the record itself after opening and hands it to `seed`.
   */
  open(taskId: string, opts?: { seeded?: boolean }): TaskFeed;
  /** Tasks streams watch now. */
  watched(): number;
  /** Whether the one watch of the task records is open (it is while any task is watched). */
  watching(): boolean;
  /** Streams' feeds open now. */
  feeds(): number;
  /** Re-publishes a queued task's latest state with a new estimate (from the estimate cache). */
  estimateChanged(taskId: string, apply: (task: Task) => void): void;
}

/** After a lost watch of the task records, it is opened again this much later while feeds remain. */
const REWATCH_MS = 1_000;

/**
 * One watch of all task records per gateway process, however many tasks and
 * streams it serves: each change of a watched task is fanned out to every
 * stream on it, and the changes of other tasks are dropped undecoded. The
 * first stream of a task reads its record; a new stream joining a watched
 * task gets its latest state at once. Whenever the watch is (re)placed, every
 * watched task is read again, so nothing written while it was being placed
 * or was lost goes unseen; revisions older than the last one sent are
 * dropped. Each record becomes a Task once (view, estimate) whatever the
 * number of streams; a stream keeps only the newest state it has not taken
 * yet. The watch stops with the last watched task.
 */
export function createTaskWatchHub(deps: {
  tasks: Pick<TaskStore, "get" | "changes">;
  view: (r: TaskRecord) => Promise<Task>;
  estimates?: QueueEstimateCache;
  log: Logger;
  now?: () => number;
  rewatchMs?: number;
}): TaskWatchHub {
  const now = deps.now ?? Date.now;
  const fan = createFanOut<TaskState>();
  /** The newest revision sent per watched task (0: none yet). */
  const sent = new Map<string, number>();
  /** One state at a time per task, in the order they came. */
  const serial = keyedSerial();
  let watch: AbortController | undefined;
  let feeds = 0;

  const watched = (taskId: string): boolean => fan.subscribers(taskId) > 0;

  async function send(taskId: string, stored: StoredTask): Promise<void> {
    if (!watched(taskId) || stored.revision <= (sent.get(taskId) ?? 0)) return;
    sent.set(taskId, stored.revision);
    const task = await deps.view(stored.record);
    if (task.status === TaskStatus.QUEUED && deps.estimates) {
      deps.estimates.track(task);
      await deps.estimates.fill(task);
    } else deps.estimates?.untrack(taskId);
    if (watched(taskId)) fan.publish(taskId, { task, revision: stored.revision }, isTerminal(task.status));
  }

  const offer = (taskId: string, stored: StoredTask): Promise<void> =>
    serial(taskId, () => send(taskId, stored)).catch((err: unknown) =>
      deps.log.warn({ err, task_id: taskId }, "task watch: state not sent"),
    );

  const reread = (taskId: string): Promise<void> =>
    serial(taskId, async () => {
      const stored = await deps.tasks.get(taskId);
      if (stored) await send(taskId, stored);
    }).catch((err: unknown) => deps.log.warn({ err, task_id: taskId }, "task watch: record not read"));

  async function follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const changes = await deps.tasks.changes(signal, watched);
        // Written before this watch was in place: read every watched task once more.
        for (const taskId of [...fan.topics()]) void reread(taskId);
        for await (const stored of changes) void offer(stored.record.task?.taskId ?? "", stored);
      } catch (err) {
        if (!signal.aborted) deps.log.warn({ err }, "task records watch lost; watching again");
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

  const owner: FeedOwner = {
    now,
    seed: (taskId, stored) => void offer(taskId, stored),
    leave(taskId, feed) {
      feeds--;
      if (fan.leave(taskId, feed).last) {
        sent.delete(taskId);
        deps.estimates?.untrack(taskId);
        if (fan.topics().next().done) {
          watch?.abort();
          watch = undefined;
        }
      }
    },
  };

  return {
    open(taskId, opts = {}) {
      const feed = new HubFeed(taskId, owner);
      feeds++;
      if (fan.join(taskId, feed).first) {
        sent.set(taskId, 0);
        if (!watch) {
          watch = new AbortController();
          void follow(watch.signal);
        }
        if (!opts.seeded) void reread(taskId);
      }
      return feed;
    },
    watched: () => sent.size,
    feeds: () => feeds,
    watching: () => watch !== undefined,
    estimateChanged(taskId, apply) {
      const latest = fan.latest(taskId);
      if (!latest || latest.value.task.status !== TaskStatus.QUEUED) return;
      const task = clone(TaskSchema, latest.value.task);
      apply(task);
      fan.publish(taskId, { task, revision: latest.value.revision }, false);
    },
  };
}

/** What a feed asks of the hub that opened it (one per hub, shared by its feeds). */
interface FeedOwner {
  now(): number;
  seed(taskId: string, stored: StoredTask): void;
  leave(taskId: string, feed: HubFeed): void;
}

/**
 * One stream's feed: its mailbox and its reader's wait. A class rather than
 * closures: a gateway holds one per open stream, and this keeps it at a few
 * small objects (one abort listener per stream, not one per wait).
 */
class HubFeed implements TaskFeed, FanOutSubscriber<TaskState> {
  private readonly slot = new LatestSlot<TaskState>();
  private wake: (() => void) | undefined = undefined;
  /** The signal this feed's abort listener is on. */
  private listening: AbortSignal | undefined = undefined;
  private closed = false;
  private readonly woken = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };

  constructor(
    private readonly taskId: string,
    private readonly owner: FeedOwner,
  ) {}

  offer(s: Snapshot<TaskState>): void {
    if (this.slot.offer(s, this.owner.now())) this.woken();
  }

  async next(signal: AbortSignal): Promise<Snapshot<TaskState> | null> {
    if (signal !== this.listening) {
      this.listening?.removeEventListener("abort", this.woken);
      this.listening = signal;
      signal.addEventListener("abort", this.woken, { once: true });
    }
    for (;;) {
      if (this.closed || signal.aborted) return null;
      const s = this.slot.take();
      if (s) return s;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  seed(stored: StoredTask): void {
    if (!this.closed) this.owner.seed(this.taskId, stored);
  }

  get pendingSinceMs(): number | undefined {
    return this.slot.pendingSinceMs;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listening?.removeEventListener("abort", this.woken);
    this.listening = undefined;
    this.woken();
    this.owner.leave(this.taskId, this);
  }
}
