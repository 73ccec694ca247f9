import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { TaskPreviewSchema } from "../gen/t2v/internal/v1/previews_pb.js";
import type { Preview } from "../gen/t2v/v1/video_service_pb.js";
import type { Bus, Unsubscribe } from "./bus/bus.js";

/**
 * Live denoise previews: core NATS, one subject per task, fire and forget.
 * Never stored (not in the task record, no stream, no KV): a preview nobody
 * watches is gone, and a lost one is replaced by the next a few steps later.
 */
export const PREVIEW_SUBJECT_PREFIX = "t2v.preview";

/** Largest preview image; larger ones are not sent (the contract promises at most 64 KiB). */
export const MAX_PREVIEW_BYTES = 64 * 1024;

export function previewSubject(taskId: string): string {
  return `${PREVIEW_SUBJECT_PREFIX}.${taskId}`;
}

export interface Previews {
  /** Sends one preview of a task's attempt; false (nothing sent) when the image is empty or over MAX_PREVIEW_BYTES. */
  publish(taskId: string, attempt: number, preview: Preview): boolean;
  /** `onPreview` hears the task's previews from now on; malformed or oversized ones are ignored. */
  subscribe(taskId: string, onPreview: (preview: Preview, attempt: number) => void): Unsubscribe;
}

function fits(p: Preview | undefined): p is Preview {
  return p !== undefined && p.image.length > 0 && p.image.length <= MAX_PREVIEW_BYTES;
}

export function previews(bus: Bus): Previews {
  return {
    publish(taskId, attempt, preview) {
      if (!fits(preview)) return false;
      const msg = create(TaskPreviewSchema, { taskId, attempt, preview });
      bus.broadcast(previewSubject(taskId), toBinary(TaskPreviewSchema, msg));
      return true;
    },
    subscribe: (taskId, onPreview) =>
      bus.subscribe(previewSubject(taskId), (data) => {
        let msg: ReturnType<typeof fromBinary<typeof TaskPreviewSchema>>;
        try {
          msg = fromBinary(TaskPreviewSchema, data);
        } catch {
          return;
        }
        if (msg.taskId !== taskId || !fits(msg.preview)) return;
        onPreview(msg.preview, msg.attempt);
      }),
  };
}
