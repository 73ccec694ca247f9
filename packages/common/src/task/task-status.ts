import { TaskStatus } from "../gen/t2v/v1/video_service_pb.js";

const TERMINAL: ReadonlySet<TaskStatus> = new Set([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL.has(status);
}

/** Lower-case names used by the REST API, logs and the CLI. */
export function statusName(status: TaskStatus): string {
  return (TaskStatus[status] ?? "UNSPECIFIED").toLowerCase();
}
