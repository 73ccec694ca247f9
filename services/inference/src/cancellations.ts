import { fromBinary } from "@bufbuild/protobuf";
import type { NatsConnection } from "@nats-io/nats-core";
import { Subjects } from "@t2v/common";
import { CancelRequestedSchema } from "@t2v/common/gen/t2v/internal/v1/jobs_pb";

export interface Cancellations {
  /** An AbortSignal that fires when the task is cancelled, or when `also` fires. */
  track(taskId: string, also: AbortSignal): { signal: AbortSignal; release(): void };
}

/** Listens to cancel broadcasts and aborts the running task they name. */
export function watchCancellations(nc: NatsConnection): Cancellations {
  const running = new Map<string, AbortController>();
  nc.subscribe(Subjects.cancel, {
    callback: (err, msg) => {
      if (err) return;
      try {
        running.get(fromBinary(CancelRequestedSchema, msg.data).taskId)?.abort(new Error("cancelled"));
      } catch {
        // A malformed broadcast cancels nothing.
      }
    },
  });
  return {
    track(taskId, also) {
      const ctl = new AbortController();
      const onAlso = (): void => ctl.abort(also.reason);
      also.addEventListener("abort", onAlso, { once: true });
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
  };
}
