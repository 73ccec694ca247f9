import { ConnectError } from "@connectrpc/connect";
import { isTerminal, type T2vClient } from "@t2v/client/browser";
import { ResultState, type Task, type TaskEvent, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { describeQueue, describeStatus } from "./describe-task.js";
import { byId } from "./dom.js";
import { sameOriginMedia } from "./media-url.js";
import { confirmDelete } from "./task-list.js";
import { previewOf } from "./task-preview.js";

export interface TaskPanel {
  /** Shows the task and follows it over WatchTask until it ends (or another is followed). */
  follow(task: Task): void;
}

export function createTaskPanel(client: () => T2vClient, onStatusChange: (task: Task) => void): TaskPanel {
  const section = byId("task", HTMLElement);
  const id = byId("task-id", HTMLElement);
  const status = byId("task-status", HTMLElement);
  const queue = byId("task-queue", HTMLElement);
  const progress = byId("task-progress", HTMLProgressElement);
  const previewFigure = byId("task-preview-figure", HTMLElement);
  const preview = byId("task-preview", HTMLImageElement);
  const previewCaption = byId("task-preview-caption", HTMLElement);
  const video = byId("task-video", HTMLVideoElement);
  const downloadLink = byId("task-download", HTMLAnchorElement);
  const cancel = byId("task-cancel", HTMLButtonElement);
  const del = byId("task-delete", HTMLButtonElement);
  let watching: AbortController | undefined;
  let current: Task | undefined;
  let previewUrl = "";

  cancel.addEventListener("click", () => {
    if (!current) return;
    cancel.disabled = true;
    client()
      .cancelTask(current.taskId)
      .then(render, (err: unknown) => {
        status.textContent = `Could not cancel: ${ConnectError.from(err).rawMessage}`;
      })
      .finally(() => {
        cancel.disabled = false;
      });
  });

  del.addEventListener("click", () => {
    if (!current || !window.confirm(confirmDelete(current))) return;
    const taskId = current.taskId;
    // A running task's watch would only report the cancel that DeleteTask makes.
    watching?.abort();
    del.disabled = true;
    client()
      .deleteTask(taskId)
      .then(render, (err: unknown) => {
        status.textContent = `Could not delete: ${ConnectError.from(err).rawMessage}`;
      })
      .finally(() => {
        del.disabled = false;
      });
  });

  function render(task: Task): void {
    const changed =
      current?.taskId !== task.taskId || current.status !== task.status || current.resultState !== task.resultState;
    current = task;
    section.hidden = false;
    id.textContent = task.taskId;
    status.textContent = describeStatus(task);
    const q = describeQueue(task);
    queue.textContent = q;
    queue.hidden = q === "";
    progress.value = task.progress;
    cancel.hidden = isTerminal(task.status);
    del.hidden = task.resultState === ResultState.DELETED;
    const done = task.status === TaskStatus.COMPLETED && task.resultUrl !== "";
    if (done) {
      const src = sameOriginMedia(task.resultUrl);
      if (video.src !== src) video.src = src;
      downloadLink.href = src;
      downloadLink.download = `${task.taskId}.mp4`;
    } else if (video.src !== "") {
      video.removeAttribute("src");
      video.load();
    }
    video.hidden = !done;
    downloadLink.hidden = !done;
    if (changed) onStatusChange(task);
  }

  function showPreview(ev: TaskEvent): void {
    const p = previewOf(ev);
    if (!p) return;
    if (previewUrl !== "") URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(new Blob([new Uint8Array(p.image)], { type: p.mimeType }));
    preview.src = previewUrl;
    if (p.width > 0) preview.width = p.width;
    if (p.height > 0) preview.height = p.height;
    previewCaption.textContent = `Preview at step ${p.step}`;
    previewFigure.hidden = false;
  }

  function clearPreview(): void {
    if (previewUrl !== "") URL.revokeObjectURL(previewUrl);
    previewUrl = "";
    preview.removeAttribute("src");
    previewFigure.hidden = true;
  }

  return {
    follow(task) {
      watching?.abort();
      clearPreview();
      render(task);
      if (isTerminal(task.status)) return;
      const ctl = new AbortController();
      watching = ctl;
      void (async () => {
        try {
          for await (const ev of client().watch(task.taskId, { signal: ctl.signal })) {
            if (ctl.signal.aborted) return;
            if (ev.task) render(ev.task);
            showPreview(ev);
          }
        } catch (err) {
          if (ctl.signal.aborted) return;
          status.textContent = `Lost the task's progress: ${ConnectError.from(err).rawMessage}`;
        }
      })();
    },
  };
}
