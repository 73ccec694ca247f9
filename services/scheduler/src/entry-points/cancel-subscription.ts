import type { Cancellations, Unsubscribe } from "@t2v/common/channels";
import type { SchedulerState } from "../domain/state.js";

/** A cancelled queued task leaves the queue at once (the gateway has already ended its record). */
export function subscribeCancellations(
  cancellations: Pick<Cancellations, "subscribe">,
  state: SchedulerState,
): Unsubscribe {
  return cancellations.subscribe((taskId) => state.forget(taskId));
}
