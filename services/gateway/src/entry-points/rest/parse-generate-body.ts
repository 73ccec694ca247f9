import { create } from "@bufbuild/protobuf";
import { type CreateTaskRequest, CreateTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { type FieldViolation, invalidArgument } from "../../domain/rpc-errors.js";

const MAX_UINT32 = 4_294_967_295;

/**
 * The REST compatibility API's JSON body (prompt, negative_prompt, resolution, duration,
 * frame_rate, style, plus our seed, webhook_url, timeout in seconds and
 * idempotency_key) as a CreateTaskRequest. Types are checked here; limits
 * are checked by the same code as for gRPC. null means "not given".
 */
export function parseGenerateBody(text: string): CreateTaskRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidArgument([{ field: "body", description: "is not valid JSON" }]);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalidArgument([{ field: "body", description: "must be a JSON object" }]);
  const b = body as Record<string, unknown>;
  const v: FieldViolation[] = [];
  const str = (name: string): string => {
    const x = b[name];
    if (x === undefined || x === null) return "";
    if (typeof x !== "string") v.push({ field: name, description: "must be a string" });
    return typeof x === "string" ? x : "";
  };
  const num = (name: string, integer: boolean): number | undefined => {
    const x = b[name];
    if (x === undefined || x === null) return undefined;
    if (
      typeof x !== "number" ||
      !Number.isFinite(x) ||
      (integer && (!Number.isInteger(x) || x < 0 || x > MAX_UINT32))
    ) {
      v.push({ field: name, description: integer ? "must be a non-negative integer" : "must be a number" });
      return undefined;
    }
    return x;
  };
  const req = create(CreateTaskRequestSchema, {
    prompt: str("prompt"),
    negativePrompt: str("negative_prompt"),
    resolution: typeof b.resolution === "string" ? b.resolution : "",
    style: str("style"),
    webhookUrl: str("webhook_url"),
    idempotencyKey: str("idempotency_key"),
  });
  // The original article's model: a resolution given at all (null and "" included) must be one
  // of the two; only a missing one defaults to 720p. (In Protobuf "" is the default.)
  if (Object.hasOwn(b, "resolution") && b.resolution !== "480p" && b.resolution !== "720p")
    v.push({ field: "resolution", description: 'must be "480p" or "720p"', reason: "STRING_IN" });
  const duration = num("duration", false);
  if (duration !== undefined) req.duration = duration;
  const frameRate = num("frame_rate", true);
  if (frameRate !== undefined) req.frameRate = frameRate;
  const seed = num("seed", true);
  if (seed !== undefined) req.seed = seed;
  const timeout = num("timeout", false);
  // Out-of-range values (1e308, say) would not even make a Duration; the
  // contract's own bounds are 1 minute to 24 hours.
  if (timeout !== undefined && !(timeout >= 60 && timeout <= 86_400)) {
    v.push({ field: "timeout", description: "must be between 60 and 86400 seconds", reason: "OUT_OF_RANGE" });
  } else if (timeout !== undefined) {
    const ms = Math.round(timeout * 1000);
    req.timeout = {
      $typeName: "google.protobuf.Duration",
      seconds: BigInt(Math.trunc(ms / 1000)),
      nanos: (ms % 1000) * 1e6,
    };
  }
  if (v.length > 0) throw invalidArgument(v);
  return req;
}
