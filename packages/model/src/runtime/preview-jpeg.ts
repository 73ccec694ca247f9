import type { Preview } from "../api-types.js";
import { encodeBaselineJpeg } from "./baseline-jpeg.js";

/** TaskEvent.preview must stay under this size (issue #15). */
export const PREVIEW_MAX_BYTES = 64 * 1024;

const QUALITIES = [75, 60, 45, 30, 15];

/**
 * Baseline JPEG of a preview, at the highest of a few qualities that fits in `maxBytes`. A
 * 256-px preview of smooth content is a few KB at quality 75, so the loop almost never runs
 * twice; it is there so the limit holds for any content (even noise).
 */
export function encodePreviewJpeg(p: Preview, maxBytes = PREVIEW_MAX_BYTES): Uint8Array {
  let size = 0;
  for (const q of QUALITIES) {
    const out = encodeBaselineJpeg(p.rgb, p.width, p.height, q);
    if (out.byteLength <= maxBytes) return out;
    size = out.byteLength;
  }
  throw new RangeError(
    `preview ${p.width}x${p.height} does not fit in ${maxBytes} bytes (${size} at the lowest quality)`,
  );
}
