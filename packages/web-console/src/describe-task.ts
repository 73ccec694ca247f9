import { timestampMs } from "@bufbuild/protobuf/wkt";
import { formatEta, remainingSeconds, statusName } from "@t2v/client/browser";
import { ResultState, type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

const RESULT_NOTES: Partial<Record<ResultState, string>> = {
  [ResultState.EXPIRED]: "the video has expired",
  [ResultState.DELETED]: "deleted",
};

/** Why a finished task has no video: "the video has expired", "deleted"; "" otherwise. */
export function describeResult(task: Task): string {
  return RESULT_NOTES[task.resultState] ?? "";
}

/** One sentence on where the task stands, for the status line (read out by screen readers). */
export function describeStatus(task: Task, nowMs = Date.now()): string {
  const line = describeProgress(task, nowMs);
  const note = describeResult(task);
  return note ? `${line}, ${note}` : line;
}

function describeProgress(task: Task, nowMs: number): string {
  const pct = `${Math.floor(task.progress * 100)}%`;
  const left = formatEta(remainingSeconds(task, nowMs));
  switch (task.status) {
    case TaskStatus.QUEUED:
      return "Queued";
    case TaskStatus.PROCESSING: {
      const step = task.totalSteps > 0 ? `, step ${task.currentStep} of ${task.totalSteps}` : "";
      return `Generating: ${pct}${step}${left ? `, about ${left} left` : ""}`;
    }
    case TaskStatus.ENCODING:
      return `Encoding the video: ${pct}`;
    case TaskStatus.COMPLETED:
      return task.cacheHit ? "Completed (from the result cache)" : "Completed";
    case TaskStatus.FAILED:
      return `Failed: ${task.errorMessage || "no reason given"}`;
    case TaskStatus.CANCELLED:
      return "Cancelled";
    case TaskStatus.PAUSED: {
      const step =
        task.totalSteps > 0 && task.currentStep > 0 ? ` at step ${task.currentStep} of ${task.totalSteps}` : "";
      return `Paused${step}: resume to continue from there`;
    }
    default:
      return statusName(task.status);
  }
}

/** "Position 3 in the queue, starts in 0:40, ready in 1:30" while queued with an estimate; "" otherwise. */
export function describeQueue(task: Task, nowMs = Date.now()): string {
  if (task.status !== TaskStatus.QUEUED || !task.estimatedStartTime) return "";
  const starts = formatEta(Math.max(0, (timestampMs(task.estimatedStartTime) - nowMs) / 1000));
  const ready = formatEta(remainingSeconds(task, nowMs));
  const ahead = task.queuePosition === 0 ? "Next in the queue" : `Position ${task.queuePosition + 1} in the queue`;
  return `${ahead}, starts in ${starts}${ready ? `, ready in ${ready}` : ""}`;
}
