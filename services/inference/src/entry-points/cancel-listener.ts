import type { Cancellations, TaskControls } from "@t2v/common/channels";

export interface TrackedRun {
  /** Fires when the task is cancelled, or when `also` fires: the run stops between two steps. */
  signal: AbortSignal;
  /** Fires when the task is paused, or this attempt is asked to yield: the run stops at a step boundary and keeps a checkpoint. */
  preempt: AbortSignal;
  release(): void;
}

export interface RunningTasks {
  /** Listens for this run's cancel, pause and yield; `attempt` tells a yield meant for it from a late one. */
  track(taskId: string, also: AbortSignal, attempt?: number): TrackedRun;
  /** Stops listening. */
  close(): void;
}

interface Tracked {
  attempt: number;
  cancel: AbortController;
  preempt: AbortController;
}

/** Listens to cancel and task-control broadcasts and stops, or preempts, the running task they name. */
export function listenForCancellations(
  cancellations: Cancellations,
  taskControls?: Pick<TaskControls, "subscribe">,
): RunningTasks {
  const running = new Map<string, Tracked>();
  const subscriptions = [
    cancellations.subscribe((taskId) => running.get(taskId)?.cancel.abort(new Error("cancelled"))),
    ...(taskControls
      ? [
          taskControls.subscribe(({ taskId, kind, attempt }) => {
            const run = running.get(taskId);
            if (!run) return;
            if (kind === "pause") run.preempt.abort("pause");
            // A yield names the attempt the scheduler saw running; a later one of the same task goes on.
            else if (kind === "yield" && (attempt === 0 || attempt === run.attempt)) run.preempt.abort("preempt");
          }),
        ]
      : []),
  ];
  return {
    track(taskId, also, attempt = 0) {
      const cancel = new AbortController();
      const preempt = new AbortController();
      const onAlso = (): void => cancel.abort(also.reason);
      if (also.aborted) onAlso();
      else also.addEventListener("abort", onAlso, { once: true });
      const tracked: Tracked = { attempt, cancel, preempt };
      running.set(taskId, tracked);
      return {
        signal: cancel.signal,
        preempt: preempt.signal,
        release() {
          also.removeEventListener("abort", onAlso);
          // A later attempt of the same task may already be tracked under this id.
          if (running.get(taskId) === tracked) running.delete(taskId);
        },
      };
    },
    close: () => {
      for (const s of subscriptions) s.unsubscribe();
    },
  };
}
