import { create } from "@bufbuild/protobuf";
import {
  type CreateTaskRequest,
  type GenerationParams,
  GenerationParamsSchema,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isResolution, RESOLUTIONS } from "./resolutions.js";
import type { FieldViolation } from "./rpc-errors.js";
import { applyStyle, STYLES } from "./style-templates.js";

/** Applied when the caller gives no negative prompt (the product's list, plus common artefacts). */
export const DEFAULT_NEGATIVE_PROMPT =
  "blurry, distorted, flickering, extra limbs, deformed hands, low quality, jpeg artifacts, watermark, text";

/**
 * Defaults and the semantic rules. The syntactic limits (lengths, ranges,
 * allowed resolutions and frame rates) are protovalidate rules in
 * proto/t2v/v1/video_service.proto, checked before this code runs.
 */
export const LIMITS = {
  /** Style hints the model packages are prompted with (style-templates.ts); "" means none. */
  styles: STYLES,
  defaultDuration: 5.0,
  defaultFrameRate: 24,
  defaultResolution: "720p",
  /** A draft renders at this size, whatever the request asks (RerunTask with draft false renders that). */
  draftResolution: "480p",
} as const;

export type NormalizeResult =
  | { ok: true; params: GenerationParams; timeoutMs: number | undefined; startTimeoutMs: number | undefined }
  | { ok: false; violations: FieldViolation[] };

/** What a RerunTask adds to a request: denoising steps (0: the model's default). */
export interface NormalizeOptions {
  steps?: number;
}

/**
 * The semantic checks of a CreateTaskRequest that has passed its contract
 * (`checkContract`): a prompt that is not blank, no control characters, a
 * known style, a printable idempotency key; then fills defaults and applies
 * the style's template (the effective prompts are what the model gets;
 * `prompt` and `negative_prompt` stay the caller's, or the default). A draft
 * renders at 480p. Pure: the random seed comes from the caller.
 */
export function normalizeCreateRequest(
  req: CreateTaskRequest,
  randomSeed: () => number,
  opts: NormalizeOptions = {},
): NormalizeResult {
  const v: FieldViolation[] = [];
  const prompt = req.prompt.trim();
  if (prompt === "") v.push({ field: "prompt", description: "must not be empty or blank", reason: "REQUIRED" });
  if (hasControlChars(req.prompt)) v.push({ field: "prompt", description: "must not contain control characters" });

  const negative = req.negativePrompt.trim();

  // The contract allows "", "480p" and "720p"; this also narrows the type.
  const requested = req.resolution === "" ? LIMITS.defaultResolution : req.resolution;
  const resolution = req.draft ? LIMITS.draftResolution : requested;
  if (!isResolution(resolution))
    v.push({ field: "resolution", description: `must be "480p" or "720p", not "${truncate(req.resolution)}"` });

  const duration = req.duration ?? LIMITS.defaultDuration;
  const frameRate = req.frameRate ?? LIMITS.defaultFrameRate;

  const style = req.style.trim().toLowerCase();
  if (!LIMITS.styles.includes(style))
    v.push({ field: "style", description: `must be one of ${LIMITS.styles.filter((x) => x !== "").join(", ")}` });

  const timeoutMs = req.timeout ? durationMs(req.timeout) : undefined;
  const startTimeoutMs = req.startTimeout ? durationMs(req.startTimeout) : undefined;

  if (req.idempotencyKey !== "" && !/^[\x20-\x7e]+$/.test(req.idempotencyKey))
    v.push({ field: "idempotency_key", description: "must be printable ASCII" });

  if (v.length > 0 || !isResolution(resolution)) return { ok: false, violations: v };
  const { width, height } = RESOLUTIONS[resolution];
  const negativePrompt = negative === "" ? DEFAULT_NEGATIVE_PROMPT : negative;
  const effective = applyStyle(style, prompt, negativePrompt);
  return {
    ok: true,
    params: create(GenerationParamsSchema, {
      prompt,
      negativePrompt,
      resolution,
      width,
      height,
      duration,
      frameRate,
      numFrames: Math.round(duration * frameRate),
      style,
      seed: req.seed ?? randomSeed(),
      seedExplicit: req.seed !== undefined,
      effectivePrompt: effective.prompt,
      effectiveNegativePrompt: effective.negative,
      draft: req.draft,
      previewEverySteps: req.previewEverySteps,
      steps: opts.steps ?? 0,
    }),
    timeoutMs,
    startTimeoutMs,
  };
}

function durationMs(d: { seconds: bigint; nanos: number }): number {
  return Math.round(Number(d.seconds) * 1000 + d.nanos / 1e6);
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
