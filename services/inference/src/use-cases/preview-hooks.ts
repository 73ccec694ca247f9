import { create } from "@bufbuild/protobuf";
import type { Previews } from "@t2v/common/channels";
import { PreviewSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import type { Logger } from "@t2v/common/logger";
import { encodePreviewJpeg, type GenerateHooks } from "@t2v/model";

/**
 * The generator hooks that publish a task's live previews: the model makes
 * the middle frame of its clean-video estimate every `every` steps (in the
 * engine thread, a small fraction of a step); here it becomes a JPEG of at
 * most 64 KiB (a few milliseconds, on this thread while the engine goes on)
 * and goes out fire and forget. None at all, and no cost, when `every` is 0.
 */
export function previewHooks(
  every: number,
  target: { taskId: string; attempt: number; previews: Pick<Previews, "publish">; log: Logger },
): Pick<GenerateHooks, "previewEvery" | "onPreview"> {
  if (every <= 0) return {};
  return {
    previewEvery: every,
    onPreview: (p) => {
      let image: Uint8Array;
      try {
        image = encodePreviewJpeg(p);
      } catch (err) {
        // A preview is a nicety: one that cannot be made is skipped, the render goes on.
        target.log.debug({ err, step: p.step }, "preview skipped");
        return;
      }
      const preview = create(PreviewSchema, {
        image,
        mimeType: "image/jpeg",
        step: p.step,
        width: p.width,
        height: p.height,
      });
      target.previews.publish(target.taskId, target.attempt, preview);
    },
  };
}
