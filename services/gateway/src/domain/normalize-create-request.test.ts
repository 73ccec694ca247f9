import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { type CreateTaskRequest, CreateTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { checkContract } from "./check-contract.js";
import { DEFAULT_NEGATIVE_PROMPT, normalizeCreateRequest } from "./normalize-create-request.js";

const seed = () => 1234;
const req = (init: Parameters<typeof create<typeof CreateTaskRequestSchema>>[1]) =>
  create(CreateTaskRequestSchema, init);

/** What the gateway does: the contract (protovalidate rules) first, then the semantic checks. */
function validate(r: CreateTaskRequest) {
  try {
    checkContract(CreateTaskRequestSchema, r);
  } catch (e) {
    const fields = ConnectError.from(e)
      .findDetails(BadRequestSchema)
      .flatMap((d) => d.fieldViolations.map((v) => v.field));
    return { ok: false as const, fields };
  }
  const n = normalizeCreateRequest(r, seed);
  return n.ok ? n : { ok: false as const, fields: n.violations.map((v) => v.field) };
}

function violations(init: Parameters<typeof req>[0]): string[] {
  const r = validate(req(init));
  assert.equal(r.ok, false);
  return r.ok ? [] : r.fields;
}

describe("checkContract + normalizeCreateRequest", () => {
  it("fills the documented defaults", () => {
    const r = validate(req({ prompt: "a cat" }));
    assert.ok(r.ok);
    assert.equal(r.params.resolution, "720p");
    assert.equal(r.params.width, 1280);
    assert.equal(r.params.height, 720);
    assert.equal(r.params.duration, 5);
    assert.equal(r.params.frameRate, 24);
    assert.equal(r.params.numFrames, 120);
    assert.equal(r.params.negativePrompt, DEFAULT_NEGATIVE_PROMPT);
    assert.equal(r.params.seed, 1234);
    assert.equal(r.params.seedExplicit, false);
  });

  it("keeps the caller's negative prompt, seed and frame count rounding", () => {
    const r = validate(
      req({ prompt: "x", negativePrompt: "dark", duration: 3.3, frameRate: 24, seed: 0, resolution: "480p" }),
    );
    assert.ok(r.ok);
    assert.equal(r.params.negativePrompt, "dark");
    assert.equal(r.params.seed, 0);
    assert.equal(r.params.seedExplicit, true);
    assert.equal(r.params.numFrames, Math.round(3.3 * 24));
    assert.deepEqual([r.params.width, r.params.height], [832, 480]);
  });

  it("rejects an empty or blank prompt", () => {
    assert.deepEqual(violations({ prompt: "" }), ["prompt"]);
    assert.deepEqual(violations({ prompt: " \t\n " }), ["prompt"]);
  });

  it("counts characters, not bytes", () => {
    const chinese = "樱".repeat(200);
    assert.ok(validate(req({ prompt: chinese })).ok);
    assert.deepEqual(violations({ prompt: `${chinese}樱` }), ["prompt"]);
    assert.ok(validate(req({ prompt: "😀".repeat(200) })).ok);
    assert.deepEqual(violations({ prompt: "a".repeat(201) }), ["prompt"]);
  });

  it("rejects durations outside 3.0-10.0, NaN and infinities", () => {
    for (const d of [2.99, 10.01, 0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.deepEqual(violations({ prompt: "x", duration: d }), ["duration"], `duration ${d}`);
    }
    for (const d of [3, 10, 6.5]) assert.ok(validate(req({ prompt: "x", duration: d })).ok);
  });

  it("rejects resolutions other than 480p and 720p", () => {
    for (const r of ["1080p", "480", "720P", "4k"])
      assert.deepEqual(violations({ prompt: "x", resolution: r }), ["resolution"]);
  });

  it("reports every bad field at once", () => {
    assert.deepEqual(violations({ prompt: "", duration: 11, resolution: "1080p", frameRate: 7, seed: 2 ** 31 }), [
      "prompt",
      "resolution",
      "duration",
      "frame_rate",
      "seed",
    ]);
  });

  it("rejects control characters but allows newlines", () => {
    assert.deepEqual(violations({ prompt: "a\u0000b" }), ["prompt"]);
    assert.ok(validate(req({ prompt: "line one\nline two" })).ok);
  });

  it("allows only known styles, in any case", () => {
    assert.ok(validate(req({ prompt: "x", style: "Cinematic" })).ok);
    assert.deepEqual(violations({ prompt: "x", style: "dreamy" }), ["style"]);
  });

  it("bounds the timeout to 1 minute..24 hours", () => {
    const ok = validate(req({ prompt: "x", timeout: { seconds: 600n } }));
    assert.ok(ok.ok && ok.timeoutMs === 600_000);
    assert.deepEqual(violations({ prompt: "x", timeout: { seconds: 59n } }), ["timeout"]);
    assert.deepEqual(violations({ prompt: "x", timeout: { seconds: 86_401n } }), ["timeout"]);
    assert.deepEqual(violations({ prompt: "x", timeout: { seconds: -5n } }), ["timeout"]);
  });

  it("wants printable, bounded idempotency keys", () => {
    assert.deepEqual(violations({ prompt: "x", idempotencyKey: "a\u0000" }), ["idempotency_key"]);
    assert.deepEqual(violations({ prompt: "x", idempotencyKey: "k".repeat(256) }), ["idempotency_key"]);
  });
});
