import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import {
  CreateTaskRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  type TaskStatus,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import { fieldViolationsFrom } from "./contract-violations.js";

const validator = createValidator();

function violationsOf(...args: Parameters<typeof validator.validate>) {
  const r = validator.validate(...args);
  assert.notEqual(r.kind, "error", r.error?.message);
  return r.kind === "invalid" ? fieldViolationsFrom(r.violations) : [];
}

describe("fieldViolationsFrom", () => {
  it("names fields in snake_case with an AIP-style reason", () => {
    const v = violationsOf(
      CreateTaskRequestSchema,
      create(CreateTaskRequestSchema, { negativePrompt: "n".repeat(501) }),
    );
    assert.deepEqual(
      v.map((x) => [x.field, x.reason]),
      [
        ["prompt", "STRING_MIN_LEN"],
        ["negative_prompt", "STRING_MAX_LEN"],
      ],
    );
    assert.ok(v.every((x) => x.description.length > 0));
  });

  it("reports every broken rule of the contract in field order", () => {
    const req = create(CreateTaskRequestSchema, {
      prompt: "x".repeat(201),
      resolution: "1080p",
      duration: Number.NaN,
      frameRate: 25,
      style: "s".repeat(41),
      seed: 2 ** 31,
      idempotencyKey: "k".repeat(256),
      webhookUrl: "not a url",
      timeout: { seconds: 59n },
    });
    assert.deepEqual(
      violationsOf(CreateTaskRequestSchema, req).map((x) => x.field),
      ["prompt", "resolution", "duration", "frame_rate", "style", "seed", "idempotency_key", "webhook_url", "timeout"],
    );
  });

  it("accepts the limits themselves and leaves empty optional strings alone", () => {
    const req = create(CreateTaskRequestSchema, {
      prompt: "😀".repeat(200),
      negativePrompt: "n".repeat(500),
      resolution: "480p",
      duration: 10,
      frameRate: 30,
      seed: 2 ** 31 - 1,
      webhookUrl: "",
      timeout: { seconds: 86_400n },
    });
    assert.deepEqual(violationsOf(CreateTaskRequestSchema, req), []);
  });

  it("bounds task ids, page sizes and page tokens", () => {
    assert.deepEqual(
      violationsOf(GetTaskRequestSchema, create(GetTaskRequestSchema, {})).map((x) => x.field),
      ["task_id"],
    );
    assert.deepEqual(
      violationsOf(GetTaskRequestSchema, create(GetTaskRequestSchema, { taskId: "t".repeat(65) })).map((x) => x.field),
      ["task_id"],
    );
    const list = create(ListTasksRequestSchema, { pageSize: -1, pageToken: "p".repeat(513), status: 99 as TaskStatus });
    assert.deepEqual(
      violationsOf(ListTasksRequestSchema, list).map((x) => x.field),
      ["page_size", "page_token", "status"],
    );
    assert.deepEqual(violationsOf(ListTasksRequestSchema, create(ListTasksRequestSchema, { pageSize: 1000 })), []);
  });
});
