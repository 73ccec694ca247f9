import { createHash } from "node:crypto";
import type { GenerationParams } from "@t2v/common/gen/t2v/v1/video_service_pb";

/**
 * The result-cache key of a request: same tenant, model and every parameter
 * that shapes the output (`steps`: the steps asked for, 0 for the model's
 * default, not the ones a worker reported). Requests without an explicit seed are random by
 * intent and never cached (empty key).
 */
export function cacheKey(tenantId: string, model: string, p: GenerationParams, steps = 0): string {
  if (!p.seedExplicit) return "";
  const parts = [
    tenantId,
    model,
    p.prompt,
    p.negativePrompt,
    // What the model is conditioned on (the style's template), and how long it denoises.
    p.effectivePrompt,
    p.effectiveNegativePrompt,
    p.draft ? "draft" : "full",
    String(steps),
    p.resolution,
    p.duration.toFixed(3),
    String(p.frameRate),
    p.style,
    String(p.seed),
  ];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}
