import assert from "node:assert/strict";
import type { Task } from "@t2v/common/gen/t2v/v1/video_service_pb";

/** Follows a task's events until the stream ends, checking progress never goes down. */
export async function followToEnd(events: AsyncIterable<{ task?: Task | undefined }>): Promise<Task[]> {
  const seen: Task[] = [];
  for await (const ev of events) if (ev.task) seen.push(ev.task);
  for (let i = 1; i < seen.length; i++) {
    assert.ok((seen[i]?.progress ?? 0) >= (seen[i - 1]?.progress ?? 0), "progress went down");
  }
  return seen;
}
