import { formatEta, remainingSeconds, statusName } from "@t2v/client/node";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

export function bar(fraction: number, width = 30): string {
  const p = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(p * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${`${Math.floor(p * 100)}%`.padStart(4)}`;
}

/** One line such as `[#########-------]  45% processing step 5/10  ETA 0:12`. */
export function taskProgressLine(task: Task, nowMs = Date.now()): string {
  const step =
    task.status === TaskStatus.PROCESSING && task.totalSteps > 0 ? ` step ${task.currentStep}/${task.totalSteps}` : "";
  const queue =
    task.status === TaskStatus.QUEUED && task.estimatedStartTime ? ` position ${task.queuePosition + 1}` : "";
  const eta = formatEta(remainingSeconds(task, nowMs));
  return `${bar(task.progress)} ${statusName(task.status)}${step}${queue}${eta ? `  ETA ${eta}` : ""}`;
}

export interface Terminal {
  isTTY: boolean;
  write(s: string): void;
}

/** Redraws one line on a TTY; elsewhere prints a line only when it changed (log-friendly). */
export function progressPrinter(term: Terminal): { show(line: string): void; done(): void } {
  let last = "";
  let drawn = false;
  return {
    show(line) {
      if (line === last) return;
      last = line;
      drawn = true;
      term.write(term.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    done() {
      if (term.isTTY && drawn) term.write("\n");
    },
  };
}
