import type { UsageLedger } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Logger } from "@t2v/common/logger";

/** Exactly one usage record per completed task: the ledger creates it, so repeats change nothing. */
export async function recordUsage(deps: { usage: UsageLedger; log: Logger }, r: TaskRecord): Promise<void> {
  await deps.usage
    .record(r)
    .catch((err: unknown) => deps.log.error({ err, task_id: r.task?.taskId }, "usage record not written"));
}
