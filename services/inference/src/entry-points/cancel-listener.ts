import type { Cancellations } from "@t2v/common/channels";

export interface RunningTasks {
  /** An AbortSignal that fires when the task is cancelled, or when `also` fires. */
  track(taskId: string, also: AbortSignal): { signal: AbortSignal; release(): void };
  /** Stops listening. */
  close(): void;
}

/** Listens to cancel broadcasts and aborts the running task they name. */
export function listenForCancellations(cancellations: Cancellations): RunningTasks {
  const running = new Map<string, AbortController>();
  const subscription = cancellations.subscribe((taskId) => running.get(taskId)?.abort(new Error("cancelled")));
  return {
    track(taskId, also) {
      const ctl = new AbortController();
      const onAlso = (): void => ctl.abort(also.reason);
      if (also.aborted) onAlso();
      else also.addEventListener("abort", onAlso, { once: true });
      running.set(taskId, ctl);
      return {
        signal: ctl.signal,
        release() {
          also.removeEventListener("abort", onAlso);
          // A later attempt of the same task may already be tracked under this id.
          if (running.get(taskId) === ctl) running.delete(taskId);
        },
      };
    },
    close: () => subscription.unsubscribe(),
  };
}
