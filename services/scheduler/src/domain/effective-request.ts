import { clone, create } from "@bufbuild/protobuf";
import type { GenerationStarted } from "@t2v/common/gen/t2v/internal/v1/worker_event_pb";
import { type GenerationParams, GenerationParamsSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";

/**
 * The params with the sampler settings a worker reported when it started the
 * attempt (older workers send only "name@version"). Pure.
 */
export function withSamplerSettings(p: GenerationParams | undefined, s: GenerationStarted): GenerationParams {
  const next = p ? clone(GenerationParamsSchema, p) : create(GenerationParamsSchema);
  const [name, version] = s.model.split("@");
  next.model = s.modelName || name || "";
  next.modelVersion = s.modelVersion || version || "";
  next.steps = s.totalSteps;
  next.guidanceScale = s.guidanceScale;
  next.shift = s.shift;
  next.expertBoundary = s.expertBoundary;
  return next;
}
