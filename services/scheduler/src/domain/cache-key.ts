import { createHash } from "node:crypto";
import type { GenerationParams } from "@t2v/common/gen/t2v/v1/video_service_pb";

/**
 * The result-cache key of a request: same tenant, model and every parameter
 * that shapes the output. Requests without an explicit seed are random by
 * intent and never cached (empty key).
 */
export function cacheKey(tenantId: string, model: string, p: GenerationParams): string {
  if (!p.seedExplicit) return "";
  const parts = [
    tenantId,
    model,
    p.prompt,
    p.negativePrompt,
    p.resolution,
    p.duration.toFixed(3),
    String(p.frameRate),
    p.style,
    String(p.seed),
  ];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}
