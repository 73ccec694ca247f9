import { toJsonString } from "@bufbuild/protobuf";
import { ResultState, type Task, TaskSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { statusName } from "@t2v/common/task";

/**
 * The JSON body of a webhook: `{"type":"task.<status>","timestamp":...,"data":<Task JSON>}`; `task.deleted`
 * once DeleteTask removed the result.
 */
export function webhookBody(task: Task, nowMs: number): string {
  return JSON.stringify({
    type: task.resultState === ResultState.DELETED ? "task.deleted" : `task.${statusName(task.status)}`,
    timestamp: new Date(nowMs).toISOString(),
    data: JSON.parse(toJsonString(TaskSchema, task)),
  });
}
