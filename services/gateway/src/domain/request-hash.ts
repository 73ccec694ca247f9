import { createHash } from "node:crypto";
import { clone, toBinary } from "@bufbuild/protobuf";
import { type CreateTaskRequest, CreateTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";

/**
 * SHA-256 of the request without its idempotency key, so a retry with the
 * same body matches and any other body does not. The binary form is the same
 * whichever protocol (gRPC, Connect JSON, REST) carried the request.
 */
export function requestHash(req: CreateTaskRequest): string {
  const copy = clone(CreateTaskRequestSchema, req);
  copy.idempotencyKey = "";
  copy.$unknown = undefined;
  return createHash("sha256").update(toBinary(CreateTaskRequestSchema, copy)).digest("hex");
}
