import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { isTerminal, statusName, type T2vClient } from "@t2v/client/browser";
import { ResultState, type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { describeResult } from "./describe-task.js";
import { byId, h } from "./dom.js";

export interface TaskList {
  refresh(): Promise<void>;
}

const PAUSABLE = new Set([TaskStatus.QUEUED, TaskStatus.PROCESSING]);

/** The tenant's own tasks (ListTasks, newest first) with open, cancel and, where the API has them, pause/resume. */
export function createTaskList(client: () => T2vClient, open: (task: Task) => void): TaskList {
  const body = byId("tasks", HTMLTableElement).tBodies[0];
  const error = byId("list-error", HTMLElement);
  if (!body) throw new Error("#tasks has no tbody");

  /** With `confirmText`, runs only once the user confirms it. */
  function action(label: string, taskId: string, run: () => Promise<unknown>, confirmText?: string): HTMLButtonElement {
    const b = h("button", label);
    b.type = "button";
    b.setAttribute("aria-label", `${label} task ${taskId}`);
    b.addEventListener("click", () => {
      if (confirmText !== undefined && !window.confirm(confirmText)) return;
      b.disabled = true;
      run().then(
        () => list.refresh(),
        (err: unknown) => {
          b.disabled = false;
          showError(`${label} failed: ${ConnectError.from(err).rawMessage}`);
        },
      );
    });
    return b;
  }

  function row(task: Task): HTMLTableRowElement {
    const tr = h("tr");
    tr.dataset.taskId = task.taskId;
    const idCell = h("td");
    const code = h("code", task.taskId.slice(-12));
    code.title = task.taskId;
    idCell.append(code);
    const prompt = h("td", task.params?.prompt ?? "");
    prompt.className = "prompt";
    const created = task.createTime ? timestampDate(task.createTime).toLocaleString() : "";
    const actions = h("td");
    actions.className = "row";
    const openButton = h("button", "Open");
    openButton.type = "button";
    openButton.setAttribute("aria-label", `Open task ${task.taskId}`);
    openButton.addEventListener("click", () => open(task));
    actions.append(openButton);
    const c = client();
    if (!isTerminal(task.status)) actions.append(action("Cancel", task.taskId, () => c.cancelTask(task.taskId)));
    if (task.resultState !== ResultState.DELETED) {
      actions.append(action("Delete", task.taskId, () => c.deleteTask(task.taskId), confirmDelete(task)));
    }
    if (c.supports("pauseTask") && PAUSABLE.has(task.status)) {
      actions.append(action("Pause", task.taskId, () => c.pauseTask(task.taskId)));
    }
    // PAUSED is not in this contract's enum yet: compare by name, so a newer build lights up by itself.
    if (c.supports("resumeTask") && TaskStatus[task.status] === "PAUSED") {
      actions.append(action("Resume", task.taskId, () => c.resumeTask(task.taskId)));
    }
    tr.append(
      idCell,
      prompt,
      h("td", describeResult(task) ? `${statusName(task.status)} (${describeResult(task)})` : statusName(task.status)),
      h("td", `${Math.floor(task.progress * 100)}%`),
      h("td", created),
      actions,
    );
    return tr;
  }

  function showError(message: string): void {
    error.textContent = message;
    error.hidden = message === "";
  }

  const list: TaskList = {
    async refresh() {
      try {
        const res = await client().listTasks({ pageSize: 50 });
        body.replaceChildren(...res.tasks.map(row));
        if (res.tasks.length === 0) {
          const tr = h("tr");
          const td = h("td", "No tasks yet.");
          td.colSpan = 6;
          tr.append(td);
          body.replaceChildren(tr);
        }
        showError("");
      } catch (err) {
        showError(`Could not list tasks: ${ConnectError.from(err).rawMessage}`);
      }
    },
  };
  return list;
}

/** The question asked before DeleteTask: it cannot be undone. */
export function confirmDelete(task: Task): string {
  const running = !isTerminal(task.status) ? " It is still running: it will be cancelled first." : "";
  return `Delete task ${task.taskId}? Its video, poster and intermediate files are removed for good.${running}`;
}
