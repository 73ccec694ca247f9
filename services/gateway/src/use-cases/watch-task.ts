import { clone } from "@bufbuild/protobuf";
import type { TaskStore } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
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
  deps: { tasks: TaskStore; view: (r: TaskRecord) => Task; estimate: Estimator; signal: AbortSignal },
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
      const task = deps.view(r.value.record);
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

export type WatchTask = (caller: Caller, taskId: string, signal: AbortSignal) => AsyncGenerator<Task>;

/** The caller's task as it changes (see `watchTaskEvents`), ending after a terminal state. */
export function watchTaskUseCase(deps: {
  getTask: GetTaskForCaller;
  tasks: TaskStore;
  view: (r: TaskRecord) => Task;
  estimate: Estimator;
}): WatchTask {
  return async function* watchTask(caller, taskId, signal) {
    await deps.getTask(caller, taskId);
    for await (const task of watchTaskEvents(taskId, { ...deps, signal })) {
      yield task;
      if (isTerminal(task.status)) return;
    }
  };
}
