import { consumeEach, type Submissions } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import type { HandleSubmission } from "../use-cases/handle-submission.js";

/** A submission whose record moved while it was handled comes back this soon. */
const RETRY_DELAY_MS = 100;
/**
 * A submission that overtook its record (the gateway writes both at once) comes back after
 * this, doubling each time, up to NO_RECORD_MAX_DELAY_MS...
 */
const NO_RECORD_FIRST_DELAY_MS = 10;
const NO_RECORD_MAX_DELAY_MS = 1_000;
/**
 * ...and is dropped after this many deliveries (about 3 s of waiting): its record was never
 * written, so there is nothing to queue. A record that lands later still has its active-index
 * entry, and the sweep files it.
 */
const NO_RECORD_MAX_DELIVERIES = 10;

/** How long a submission whose record is not there yet waits before its `deliveryCount`-th redelivery; undefined: drop it. */
function noRecordDelayMs(deliveryCount: number): number | undefined {
  if (deliveryCount >= NO_RECORD_MAX_DELIVERIES) return undefined;
  return Math.min(NO_RECORD_MAX_DELAY_MS, NO_RECORD_FIRST_DELAY_MS * 2 ** (deliveryCount - 1));
}

/** New tasks from the gateway (T2V_SUBMIT), one at a time, until `signal` aborts. */
export function consumeSubmissions(
  submissions: Pick<Submissions, "inbox">,
  handle: HandleSubmission,
  opts: { signal: AbortSignal; log: Logger },
): Promise<void> {
  return consumeEach(
    () => submissions.inbox(),
    async (d) => {
      const outcome = await handle(d.message.taskId);
      if (outcome === "done") return d.ack();
      if (outcome === "retry") return d.nak(RETRY_DELAY_MS);
      const delayMs = noRecordDelayMs(d.deliveryCount);
      if (delayMs === undefined) d.ack();
      else d.nak(delayMs);
    },
    { ...opts, name: "t2v.submit" },
  );
}
