import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** COMPLETED, FAILED and CANCELLED: nothing changes after them. */
export function isTerminal(status: TaskStatus): boolean {
  return status === TaskStatus.COMPLETED || status === TaskStatus.FAILED || status === TaskStatus.CANCELLED;
}

/** "queued", "processing", ... as the REST API and the CLI's --json spell them. */
export function statusName(status: TaskStatus): string {
  return (TaskStatus[status] ?? "unspecified").toLowerCase();
}
