import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { HealthCheckRequestSchema } from "@t2v/common/gen/grpc/health/v1/health_pb";
import {
  CreateTaskRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  RerunTaskRequestSchema,
  WatchTaskRequestSchema,
} from "@t2v/common/gen/t2v/v1/video_service_pb";
import fc from "fast-check";
import { checkContract } from "../../domain/check-contract.js";
import { fuzzRuns } from "../../testing/fuzz-runs.js";
import { binaryBodyParses } from "./binary-body-check.js";

const SCHEMAS: DescMessage[] = [
  CreateTaskRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  WatchTaskRequestSchema,
  RerunTaskRequestSchema,
  HealthCheckRequestSchema,
];
const parser = (schema: DescMessage) => (m: Uint8Array) => void fromBinary(schema, m);

function frame(flags: number, message: Uint8Array): Uint8Array {
  const f = new Uint8Array(5 + message.length);
  f[0] = flags;
  new DataView(f.buffer).setUint32(1, message.length);
  f.set(message, 5);
  return f;
}
const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A message that never parses: field 1 as a varint whose bytes all say "more follows". */
const BROKEN = Uint8Array.from([0x08, 0xff, 0xff, 0xff]);

const createRequest = fc.record({
  prompt: fc.string({ maxLength: 300 }),
  negativePrompt: fc.string({ maxLength: 50 }),
  resolution: fc.constantFrom("", "480p", "720p", "1080p", "x"),
  style: fc.string({ maxLength: 20 }),
  webhookUrl: fc.oneof(fc.constant(""), fc.webUrl(), fc.string({ maxLength: 40 })),
  idempotencyKey: fc.string({ maxLength: 80 }),
  duration: fc.option(fc.double(), { nil: undefined }),
  frameRate: fc.option(fc.nat(), { nil: undefined }),
  seed: fc.option(fc.nat(), { nil: undefined }),
  previewEverySteps: fc.nat(),
  draft: fc.boolean(),
});

/** Passes, or INVALID_ARGUMENT with BadRequest field violations: never INTERNAL (the rules compiled) or another throw. */
function contractHoldsOrRefuses(schema: DescMessage, message: Parameters<typeof checkContract>[1]): void {
  try {
    checkContract(schema, message);
  } catch (err) {
    assert.ok(err instanceof ConnectError, `threw ${String(err)}`);
    assert.equal(err.code, Code.InvalidArgument, err.message);
    const violations = err.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations);
    assert.ok(violations.length > 0, "names its fields");
  }
}

describe("binary bodies and the contract (fuzz, fast-check)", () => {
  it("any bytes, framed or not, for any request type: a verdict, never a throw or a read past the body", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.boolean(),
        fc.constantFrom(...SCHEMAS),
        fc.boolean(),
        (bytes, enveloped, schema, encoded) => {
          assert.equal(typeof binaryBodyParses(bytes, enveloped, parser(schema), encoded), "boolean");
        },
      ),
      { numRuns: fuzzRuns() },
    );
  });

  it("frames: false exactly when a complete frame is uncompressed and does not parse, or compressed without an encoding", () => {
    const part = fc.oneof(
      createRequest.map((r) => ({
        bytes: toBinary(CreateTaskRequestSchema, create(CreateTaskRequestSchema, r)),
        ok: true,
      })),
      fc.constant({ bytes: BROKEN, ok: false }),
    );
    const framed = fc.record({ part, flags: fc.constantFrom(0, 1, 2, 3, 0x80) });
    fc.assert(
      fc.property(fc.array(framed, { maxLength: 6 }), fc.nat({ max: 8 }), fc.boolean(), (frames, cut, encoded) => {
        const body = concat(frames.map((f) => frame(f.flags, f.part.bytes)));
        // A truncated last frame is left to the protocol handler (it answers that itself).
        const truncated = body.subarray(0, Math.max(0, body.length - cut));
        let at = 0;
        let expected = true;
        for (const f of frames) {
          const end = at + 5 + f.part.bytes.length;
          if (end > truncated.length) break;
          if ((f.flags & 0x01) !== 0 && !encoded) expected = false;
          if ((f.flags & 0x03) === 0 && !f.part.ok) expected = false;
          at = end;
          if (!expected) break;
        }
        assert.equal(binaryBodyParses(truncated, true, parser(CreateTaskRequestSchema), encoded), expected);
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it("a frame that declares up to 4 GiB is judged without allocating it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 64 }), (len, rest) => {
        const head = new Uint8Array(5);
        new DataView(head.buffer).setUint32(1, len);
        const body = concat([head, rest]);
        const verdict = binaryBodyParses(body, true, parser(CreateTaskRequestSchema), true);
        if (len > rest.length) assert.equal(verdict, true);
      }),
      { numRuns: fuzzRuns() },
    );
  });

  it("the contract: any CreateTaskRequest passes or is refused INVALID_ARGUMENT with field violations", () => {
    fc.assert(
      fc.property(createRequest, (r) =>
        contractHoldsOrRefuses(CreateTaskRequestSchema, create(CreateTaskRequestSchema, r)),
      ),
      { numRuns: fuzzRuns() },
    );
  });

  it("the contract: whatever random bytes parse as, for every request type", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(...SCHEMAS), (bytes, schema) => {
        let message: ReturnType<typeof fromBinary>;
        try {
          message = fromBinary(schema, bytes);
        } catch {
          return;
        }
        contractHoldsOrRefuses(schema, message);
      }),
      { numRuns: fuzzRuns() },
    );
  });
});
