import { parseArgs } from "node:util";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { isTerminal, statusName } from "@t2v/client/node";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { API_OPTIONS, API_OPTIONS_HELP, clientOf, numberOption } from "../cli/api-options.js";
import type { Command } from "../cli/command.js";
import { ExitCode, UsageError } from "../cli/exit-codes.js";
import { progressPrinter, taskProgressLine } from "../cli/progress-bar.js";
import { describeTask, taskJson } from "../cli/task-output.js";

function oneTaskId(positionals: string[]): string {
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw new UsageError("exactly one TASK_ID is required");
  return id;
}

export const getCommand: Command = {
  name: "get",
  summary: "show one task",
  help: `usage: t2v get TASK_ID [options]

${API_OPTIONS_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: API_OPTIONS });
    const task = await clientOf(values).getTask(oneTaskId(positionals));
    io.stdout(values.json ? `${JSON.stringify(taskJson(task))}\n` : describeTask(task));
    return ExitCode.ok;
  },
};

export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a queued or running task",
  help: `usage: t2v cancel TASK_ID [options]

Cancelling a task that has already ended shows it unchanged.

${API_OPTIONS_HELP}`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: API_OPTIONS });
    const task = await clientOf(values).cancelTask(oneTaskId(positionals));
    io.stdout(values.json ? `${JSON.stringify(taskJson(task))}\n` : describeTask(task));
    return ExitCode.ok;
  },
};

export const deleteCommand: Command = {
  name: "delete",
  summary: "delete a task's video, poster and intermediates",
  help: `usage: t2v delete TASK_ID [options]

Removes the task's video, poster and intermediate files at once, cancelling
the task first if it still runs; the task then reads as deleted (no links).
Deleting it again shows it unchanged. Only the task's owner can: another
tenant's task, like a missing one, is exit 4 (not found).

${API_OPTIONS_HELP}

--json prints the Task (resultState RESULT_STATE_DELETED).`,
  async run(args, io) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: API_OPTIONS });
    const task = await clientOf(values).deleteTask(oneTaskId(positionals));
    io.stdout(values.json ? `${JSON.stringify(taskJson(task))}\n` : describeTask(task));
    return ExitCode.ok;
  },
};

const STATUSES = ["queued", "processing", "encoding", "completed", "failed", "cancelled"];

export const listCommand: Command = {
  name: "list",
  summary: "list your tasks, newest first",
  help: `usage: t2v list [options]

  --status S            only tasks in this state: ${STATUSES.join(", ")}
  --limit N             at most N tasks (default 20, at most 100 a page)
  --page-token T        the next page (printed after a full page)
${API_OPTIONS_HELP}

--json prints {"tasks": [...], "nextPageToken": "..."}.`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        ...API_OPTIONS,
        status: { type: "string" },
        limit: { type: "string" },
        "page-token": { type: "string" },
      },
    });
    let status = TaskStatus.UNSPECIFIED;
    if (values.status !== undefined) {
      const i = STATUSES.indexOf(values.status.toLowerCase());
      if (i < 0) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
      status = (i + 1) as TaskStatus;
    }
    const limit = numberOption("limit", values.limit) ?? 0;
    const res = await clientOf(values).listTasks({ status, pageSize: limit, pageToken: values["page-token"] ?? "" });
    if (values.json) {
      io.stdout(`${JSON.stringify({ tasks: res.tasks.map(taskJson), nextPageToken: res.nextPageToken })}\n`);
      return ExitCode.ok;
    }
    io.stdout(`${"TASK".padEnd(38)}${"STATUS".padEnd(12)}${"PROGRESS".padEnd(10)}${"CREATED".padEnd(22)}PROMPT\n`);
    for (const t of res.tasks) io.stdout(listLine(t));
    if (res.nextPageToken) io.stdout(`more: t2v list --page-token ${res.nextPageToken}\n`);
    return ExitCode.ok;
  },
};

function listLine(t: Task): string {
  const created = t.createTime ? timestampDate(t.createTime).toISOString().slice(0, 19) : "";
  const pct = `${Math.floor(t.progress * 100)}%`;
  return `${t.taskId.padEnd(38)}${statusName(t.status).padEnd(12)}${pct.padEnd(10)}${created.padEnd(22)}${t.params?.prompt ?? ""}\n`;
}

export const watchCommand: Command = {
  name: "watch",
  summary: "follow a task until it ends",
  help: `usage: t2v watch TASK_ID [options]

Shows a progress bar with an ETA (stderr) until the task ends; reconnects
when the stream drops. Exit 0 when it completed, 5 when it failed or was
cancelled.

  --timeout S           stop after S seconds (exit 6; the task goes on)
${API_OPTIONS_HELP}

--json prints one Task per line (NDJSON) on every change.`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...API_OPTIONS, timeout: { type: "string" } },
    });
    const taskId = oneTaskId(positionals);
    const timeout = numberOption("timeout", values.timeout);
    const progress = progressPrinter({ isTTY: io.stderrIsTTY, write: io.stderr });
    let task: Task;
    try {
      task = await clientOf(values).waitForCompletion(taskId, {
        onProgress: (t) => {
          if (values.json) io.stdout(`${JSON.stringify(taskJson(t))}\n`);
          else progress.show(taskProgressLine(t));
        },
        ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      });
    } finally {
      progress.done();
    }
    if (!values.json)
      io.stderr(`task ${task.taskId} ${statusName(task.status)}${task.errorMessage ? `: ${task.errorMessage}` : ""}\n`);
    return isTerminal(task.status) && task.status === TaskStatus.COMPLETED ? ExitCode.ok : ExitCode.taskFailed;
  },
};
