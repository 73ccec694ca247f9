import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { statusName } from "@t2v/common/task";

/** One line such as `[#########-----------]  45% processing step 5/10`. */
export function renderProgress(task: Task, width = 30): string {
  const p = Math.min(1, Math.max(0, task.progress));
  const filled = Math.round(p * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const pct = `${Math.floor(p * 100)}%`.padStart(4);
  const step =
    task.status === TaskStatus.PROCESSING && task.totalSteps > 0 ? ` step ${task.currentStep}/${task.totalSteps}` : "";
  return `${bar} ${pct} ${statusName(task.status)}${step}`;
}
