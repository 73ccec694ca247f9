import { create } from "@bufbuild/protobuf";
import {
  type CreateTaskRequest,
  type GenerationParams,
  GenerationParamsSchema,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isResolution, RESOLUTIONS } from "./resolutions.js";
import type { FieldViolation } from "./rpc-errors.js";

/** Applied when the caller gives no negative prompt (the product's list, plus common artefacts). */
export const DEFAULT_NEGATIVE_PROMPT =
  "blurry, distorted, flickering, extra limbs, deformed hands, low quality, jpeg artifacts, watermark, text";

/**
 * Defaults and the semantic rules. The syntactic limits (lengths, ranges,
 * allowed resolutions and frame rates) are protovalidate rules in
 * proto/t2v/v1/video_service.proto, checked before this code runs.
 */
export const LIMITS = {
  /** Style hints the model packages are prompted with; "" means none. */
  styles: [
    "",
    "realistic",
    "cinematic",
    "anime",
    "cartoon",
    "documentary",
    "watercolor",
    "oil-painting",
    "3d-render",
    "pixel-art",
    "vintage-film",
    "noir",
    "fantasy",
    "sci-fi",
  ] as readonly string[],
  defaultDuration: 5.0,
  defaultFrameRate: 24,
  defaultResolution: "720p",
} as const;

export type NormalizeResult =
  | { ok: true; params: GenerationParams; timeoutMs: number | undefined }
  | { ok: false; violations: FieldViolation[] };

/**
 * The semantic checks of a CreateTaskRequest that has passed its contract
 * (`checkContract`): a prompt that is not blank, no control characters, a
 * known style, a printable idempotency key; then fills defaults. Pure: the
 * random seed comes from the caller.
 */
export function normalizeCreateRequest(req: CreateTaskRequest, randomSeed: () => number): NormalizeResult {
  const v: FieldViolation[] = [];
  const prompt = req.prompt.trim();
  if (prompt === "") v.push({ field: "prompt", description: "must not be empty or blank", reason: "REQUIRED" });
  if (hasControlChars(req.prompt)) v.push({ field: "prompt", description: "must not contain control characters" });

  const negative = req.negativePrompt.trim();

  // The contract allows "", "480p" and "720p"; this also narrows the type.
  const resolution = req.resolution === "" ? LIMITS.defaultResolution : req.resolution;
  if (!isResolution(resolution))
    v.push({ field: "resolution", description: `must be "480p" or "720p", not "${truncate(req.resolution)}"` });

  const duration = req.duration ?? LIMITS.defaultDuration;
  const frameRate = req.frameRate ?? LIMITS.defaultFrameRate;

  const style = req.style.trim().toLowerCase();
  if (!LIMITS.styles.includes(style))
    v.push({ field: "style", description: `must be one of ${LIMITS.styles.filter((x) => x !== "").join(", ")}` });

  const timeoutMs = req.timeout ? Math.round(Number(req.timeout.seconds) * 1000 + req.timeout.nanos / 1e6) : undefined;

  if (req.idempotencyKey !== "" && !/^[\x20-\x7e]+$/.test(req.idempotencyKey))
    v.push({ field: "idempotency_key", description: "must be printable ASCII" });

  if (v.length > 0 || !isResolution(resolution)) return { ok: false, violations: v };
  const { width, height } = RESOLUTIONS[resolution];
  return {
    ok: true,
    params: create(GenerationParamsSchema, {
      prompt,
      negativePrompt: negative === "" ? DEFAULT_NEGATIVE_PROMPT : negative,
      resolution,
      width,
      height,
      duration,
      frameRate,
      numFrames: Math.round(duration * frameRate),
      style,
      seed: req.seed ?? randomSeed(),
      seedExplicit: req.seed !== undefined,
    }),
    timeoutMs,
  };
}

// Tabs and newlines are fine in a prompt; other C0/C1 controls are not.
function hasControlChars(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function truncate(s: string): string {
  return s.length > 20 ? `${s.slice(0, 20)}…` : s;
}
