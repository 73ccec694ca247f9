import { clone } from "@bufbuild/protobuf";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import { type Task, TaskSchema, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** The public view of a record: the task, with a download URL once it is completed. */
export function publicTask(record: TaskRecord, publicBaseUrl: string): Task {
  const task = record.task ? clone(TaskSchema, record.task) : undefined;
  if (!task) throw new Error("task record without task");
  if (task.status === TaskStatus.COMPLETED && record.videoObject !== "") {
    task.resultUrl = `${publicBaseUrl.replace(/\/$/, "")}/v1/videos/${task.taskId}.mp4`;
  }
  return task;
}
