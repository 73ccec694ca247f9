import { consumeEach, type WorkerEvents } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import type { ApplyEvent } from "../use-cases/apply-worker-event.js";

/** What the workers report (T2V_EVENTS), applied one at a time; a failed apply is redelivered. */
export function consumeWorkerEvents(
  workerEvents: Pick<WorkerEvents, "inbox">,
  applyEvent: ApplyEvent,
  opts: { signal: AbortSignal; log: Logger },
): Promise<void> {
  return consumeEach(
    () => workerEvents.inbox(),
    async (d) => {
      await applyEvent(d.message);
      d.ack();
    },
    { ...opts, name: "t2v.event" },
  );
}
