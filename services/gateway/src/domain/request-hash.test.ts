import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromJson } from "@bufbuild/protobuf";
import { CreateTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { requestHash } from "./request-hash.js";

describe("requestHash", () => {
  it("ignores the idempotency key and the carrier", () => {
    const a = create(CreateTaskRequestSchema, { prompt: "cat", duration: 3, idempotencyKey: "k1" });
    const b = fromJson(CreateTaskRequestSchema, { prompt: "cat", duration: 3, idempotencyKey: "k2" });
    assert.equal(requestHash(a), requestHash(b));
  });
  it("changes with any field", () => {
    const a = create(CreateTaskRequestSchema, { prompt: "cat" });
    assert.notEqual(requestHash(a), requestHash(create(CreateTaskRequestSchema, { prompt: "dog" })));
    assert.notEqual(requestHash(a), requestHash(create(CreateTaskRequestSchema, { prompt: "cat", seed: 1 })));
  });
});
