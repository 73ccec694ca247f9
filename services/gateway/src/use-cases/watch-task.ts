import { clone } from "@bufbuild/protobuf";
import type { Previews, TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Preview, type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTerminal } from "@t2v/common/task";
import type { Estimator } from "../adapters/queue-estimates.js";
import type { Caller } from "../domain/caller.js";
import type { GetTaskForCaller } from "./get-task-for-caller.js";

/** How often a queued task's place in the queue is asked again. */
export const REESTIMATE_MS = 2_000;

const TICK = Symbol("tick");

/**
 * The task on every change of its record and, while it is queued, whenever
 * its queue position or ETA moves. Ends when the signal aborts.
 */
export async function* watchTaskEvents(
  taskId: string,
  deps: { tasks: TaskStore; view: (r: TaskRecord) => Promise<Task>; estimate: Estimator; signal: AbortSignal },
): AsyncGenerator<Task> {
  // Our own abort ends the KV watch when we stop first (a terminal state):
  // awaiting the iterator's return() would wait behind its pending next().
  const local = new AbortController();
  const signal = AbortSignal.any([deps.signal, local.signal]);
  const it = deps.tasks.watch(taskId, signal)[Symbol.asyncIterator]();
  let pending = it.next();
  let last: Task | undefined;
  try {
    while (!deps.signal.aborted) {
      const queued = last?.status === TaskStatus.QUEUED;
      const r = queued ? await Promise.race([pending, tick(REESTIMATE_MS, signal)]) : await pending;
      if (r === TICK) {
        if (!last || deps.signal.aborted) continue;
        const again = clone(TaskSchema, last);
        await deps.estimate([again]);
        if (again.queuePosition !== last.queuePosition || !sameTime(again, last)) {
          last = again;
          yield again;
        }
        continue;
      }
      if (r.done) return;
      pending = it.next();
      const task = await deps.view(r.value.record);
      await deps.estimate([task]);
      last = task;
      yield task;
    }
  } finally {
    local.abort();
    pending.catch(() => undefined);
  }
}

function sameTime(a: Task, b: Task): boolean {
  return a.estimatedStartTime?.seconds === b.estimatedStartTime?.seconds;
}

function tick(ms: number, signal: AbortSignal): Promise<typeof TICK> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(TICK), ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve(TICK);
      },
      { once: true },
    );
  });
}

/** One event of a watch: the task as it stands, and a preview image when that is what happened. */
export interface WatchEvent {
  task: Task;
  preview?: Preview;
}

export type WatchTask = (caller: Caller, taskId: string, signal: AbortSignal) => AsyncGenerator<WatchEvent>;

/** Previews waiting for the stream beyond this are dropped, oldest first: a slow reader gets the latest. */
const MAX_WAITING_PREVIEWS = 2;

/**
 * The caller's task as it changes (see `watchTaskEvents`), ending after a
 * terminal state; with the previews of its current attempt in between when
 * the task asked for them (preview_every_steps), and never otherwise.
 */
export function watchTaskUseCase(deps: {
  getTask: GetTaskForCaller;
  tasks: TaskStore;
  view: (r: TaskRecord) => Promise<Task>;
  estimate: Estimator;
  previews: Pick<Previews, "subscribe">;
}): WatchTask {
  return async function* watchTask(caller, taskId, signal) {
    const found = await deps.getTask(caller, taskId);
    const local = new AbortController();
    const events = watchTaskEvents(taskId, { ...deps, signal: AbortSignal.any([signal, local.signal]) });
    const wantsPreviews = (found.record.task?.params?.previewEverySteps ?? 0) > 0;
    try {
      const merged = wantsPreviews ? withPreviews(events, (on) => deps.previews.subscribe(taskId, on)) : plain(events);
      for await (const ev of merged) {
        yield ev;
        if (!ev.preview && isTerminal(ev.task.status)) return;
      }
    } finally {
      local.abort();
    }
  };
}

async function* plain(events: AsyncGenerator<Task>): AsyncGenerator<WatchEvent> {
  for await (const task of events) yield { task };
}

/**
 * The task's changes with its previews merged in. A preview goes out with the
 * task as last sent, only while the task runs and only for its current attempt.
 */
async function* withPreviews(
  events: AsyncGenerator<Task>,
  subscribe: (on: (preview: Preview, attempt: number) => void) => { unsubscribe(): void },
): AsyncGenerator<WatchEvent> {
  const waiting: Array<{ preview: Preview; attempt: number }> = [];
  let wake: (() => void) | undefined;
  const sub = subscribe((preview, attempt) => {
    waiting.push({ preview, attempt });
    if (waiting.length > MAX_WAITING_PREVIEWS) waiting.shift();
    wake?.();
  });
  let pending = events.next();
  let last: Task | undefined;
  try {
    for (;;) {
      if (waiting.length === 0) {
        const woken = new Promise<"preview">((resolve) => {
          wake = () => resolve("preview");
        });
        const r = await Promise.race([pending, woken]);
        wake = undefined;
        if (r !== "preview") {
          if (r.done) return;
          last = r.value;
          pending = events.next();
          yield { task: r.value };
          continue;
        }
      }
      const item = waiting.shift();
      if (item && last && item.attempt === last.attempt && !isTerminal(last.status))
        yield { task: last, preview: item.preview };
    }
  } finally {
    sub.unsubscribe();
    // The caller's abort ends the pending read of the watch; then the generator can close.
    pending.catch(() => undefined);
    events.return(undefined).catch(() => undefined);
  }
}
