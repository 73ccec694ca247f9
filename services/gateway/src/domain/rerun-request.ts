import { clone, create } from "@bufbuild/protobuf";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import {
  type CreateTaskRequest,
  CreateTaskRequestSchema,
  type RerunOverrides,
} from "@t2v/common/gen/t2v/v1/video_service_pb";

/** What RerunTask submits: a CreateTaskRequest, and the steps to denoise (0: the model's default). */
export interface RerunRequest {
  request: CreateTaskRequest;
  steps: number;
}

/**
 * The request of a rerun: the origin's request (as its caller made it, with
 * the seed the service drew when it drew one), with the overrides applied.
 * Without a seed override the rerun keeps the origin's seed, so a draft
 * promoted with `draft: false` renders the same composition in full. No
 * idempotency key: each rerun is a new task. Pure.
 */
export function rerunRequest(origin: TaskRecord, overrides: RerunOverrides | undefined): RerunRequest {
  const params = origin.task?.params;
  const request = origin.request
    ? clone(CreateTaskRequestSchema, origin.request)
    : // A task created before requests were kept: rebuild it from its effective parameters.
      create(CreateTaskRequestSchema, {
        prompt: params?.prompt ?? "",
        negativePrompt: params?.negativePrompt ?? "",
        resolution: params?.resolution ?? "",
        style: params?.style ?? "",
        ...(params ? { duration: params.duration, frameRate: params.frameRate } : {}),
      });
  request.idempotencyKey = "";
  request.seed = overrides?.seed ?? params?.seed ?? request.seed;
  if (overrides?.resolution !== undefined) request.resolution = overrides.resolution;
  if (overrides?.duration !== undefined) request.duration = overrides.duration;
  if (overrides?.draft !== undefined) request.draft = overrides.draft;
  return { request, steps: overrides?.steps ?? origin.requestedSteps };
}
