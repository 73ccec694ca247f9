import { consumeEach, type Submissions } from "@t2v/common/channels";
import type { Logger } from "@t2v/common/logger";
import type { HandleSubmission } from "../use-cases/handle-submission.js";

/** A submission whose record moved while it was handled comes back this soon. */
const RETRY_DELAY_MS = 100;

/** New tasks from the gateway (T2V_SUBMIT), one at a time, until `signal` aborts. */
export function consumeSubmissions(
  submissions: Pick<Submissions, "inbox">,
  handle: HandleSubmission,
  opts: { signal: AbortSignal; log: Logger },
): Promise<void> {
  return consumeEach(
    () => submissions.inbox(),
    async (d) => {
      if ((await handle(d.message.taskId)) === "done") d.ack();
      else d.nak(RETRY_DELAY_MS);
    },
    { ...opts, name: "t2v.submit" },
  );
}
