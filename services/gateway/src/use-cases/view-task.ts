import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { ResultState, type Task } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { ResultLinks } from "../adapters/result-links.js";
import { publicTask } from "../domain/public-task.js";
import { expireUnix, type RetentionPolicy, resultStateAt } from "../domain/result-retention.js";

/** The public view of a record, as every protocol returns it (RPC, REST, SSE, webhooks). */
export type ViewTask = (record: TaskRecord) => Promise<Task>;

/** Links are minted at each read, so a task read again after its link expired gets a fresh one. */
export function viewTaskUseCase(deps: { links: ResultLinks; retention: RetentionPolicy; now: () => number }): ViewTask {
  return async (record) => {
    const nowUnix = Math.floor(deps.now() / 1000);
    const ctx = { nowUnix, retention: deps.retention };
    const exp = expireUnix(record, deps.retention);
    if (exp === null || resultStateAt(record, nowUnix, deps.retention) !== ResultState.AVAILABLE)
      return publicTask(record, ctx);
    return publicTask(record, { ...ctx, links: await deps.links.linksFor(record, nowUnix, exp) });
  };
}
