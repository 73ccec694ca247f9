import { create } from "@bufbuild/protobuf";
import { type FieldViolation, isResolution, RESOLUTIONS } from "@t2v/common";
import {
  type CreateTaskRequest,
  type GenerationParams,
  GenerationParamsSchema,
} from "@t2v/common/gen/t2v/v1/video_service_pb";

/** Applied when the caller gives no negative prompt (the brief's list, plus common artefacts). */
export const DEFAULT_NEGATIVE_PROMPT =
  "blurry, distorted, flickering, extra limbs, deformed hands, low quality, jpeg artifacts, watermark, text";

export const LIMITS = {
  promptChars: 200,
  negativePromptChars: 500,
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
  minTimeoutMs: 60_000,
  maxTimeoutMs: 24 * 3600_000,
  idempotencyKeyChars: 255,
  minDuration: 3.0,
  maxDuration: 10.0,
  defaultDuration: 5.0,
  defaultFrameRate: 24,
  frameRates: [16, 24, 30] as readonly number[],
  maxSeed: 2_147_483_647,
  defaultResolution: "720p",
} as const;

export type NormalizeResult =
  | { ok: true; params: GenerationParams; timeoutMs: number | undefined }
  | { ok: false; violations: FieldViolation[] };

/**
 * Checks a CreateTaskRequest against the brief's limits and fills defaults.
 * Pure: the random seed comes from the caller. Lengths count Unicode code
 * points, so 200 Chinese characters are as fine as 200 Latin ones.
 */
export function normalizeCreateRequest(req: CreateTaskRequest, randomSeed: () => number): NormalizeResult {
  const v: FieldViolation[] = [];
  const prompt = req.prompt.trim();
  if (prompt === "") v.push({ field: "prompt", description: "must not be empty or blank", reason: "REQUIRED" });
  else if (codePoints(prompt) > LIMITS.promptChars)
    v.push({ field: "prompt", description: `must be at most ${LIMITS.promptChars} characters`, reason: "TOO_LONG" });
  if (hasControlChars(req.prompt)) v.push({ field: "prompt", description: "must not contain control characters" });

  const negative = req.negativePrompt.trim();
  if (codePoints(negative) > LIMITS.negativePromptChars)
    v.push({ field: "negative_prompt", description: `must be at most ${LIMITS.negativePromptChars} characters` });

  const resolution = req.resolution.trim() === "" ? LIMITS.defaultResolution : req.resolution.trim();
  if (!isResolution(resolution))
    v.push({ field: "resolution", description: `must be "480p" or "720p", not "${truncate(req.resolution)}"` });

  const duration = req.duration ?? LIMITS.defaultDuration;
  if (!(duration >= LIMITS.minDuration && duration <= LIMITS.maxDuration))
    v.push({
      field: "duration",
      description: `must be between ${LIMITS.minDuration.toFixed(1)} and ${LIMITS.maxDuration.toFixed(1)} seconds`,
      reason: "OUT_OF_RANGE",
    });

  const frameRate = req.frameRate ?? LIMITS.defaultFrameRate;
  if (!LIMITS.frameRates.includes(frameRate))
    v.push({ field: "frame_rate", description: `must be one of ${LIMITS.frameRates.join(", ")}` });

  const style = req.style.trim().toLowerCase();
  if (!LIMITS.styles.includes(style))
    v.push({ field: "style", description: `must be one of ${LIMITS.styles.filter((x) => x !== "").join(", ")}` });

  let timeoutMs: number | undefined;
  if (req.timeout) {
    timeoutMs = Math.round(Number(req.timeout.seconds) * 1000 + req.timeout.nanos / 1e6);
    if (!(timeoutMs >= LIMITS.minTimeoutMs && timeoutMs <= LIMITS.maxTimeoutMs))
      v.push({ field: "timeout", description: "must be between 1 minute and 24 hours", reason: "OUT_OF_RANGE" });
  }

  if (req.idempotencyKey !== "" && !/^[\x20-\x7e]+$/.test(req.idempotencyKey))
    v.push({ field: "idempotency_key", description: "must be printable ASCII" });
  else if (req.idempotencyKey.length > LIMITS.idempotencyKeyChars)
    v.push({ field: "idempotency_key", description: `must be at most ${LIMITS.idempotencyKeyChars} characters` });

  if (req.seed !== undefined && req.seed > LIMITS.maxSeed)
    v.push({ field: "seed", description: `must be between 0 and ${LIMITS.maxSeed}` });

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

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
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
