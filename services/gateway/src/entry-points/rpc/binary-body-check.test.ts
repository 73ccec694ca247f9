import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { GetTaskRequestSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { binaryBodyParses } from "./binary-body-check.js";

const parse = (m: Uint8Array) => void fromBinary(GetTaskRequestSchema, m);
const frame = (m: number[], flags = 0) => [flags, 0, 0, 0, m.length, ...m];

describe("binaryBodyParses", () => {
  it("accepts valid messages, bare or enveloped", () => {
    assert.ok(binaryBodyParses(new Uint8Array([10, 1, 97]), false, parse, true));
    assert.ok(binaryBodyParses(new Uint8Array(frame([10, 1, 97])), true, parse, true));
    assert.ok(binaryBodyParses(new Uint8Array(frame([])), true, parse, true));
  });
  it("spots garbage Protobuf", () => {
    assert.equal(binaryBodyParses(new Uint8Array([0]), false, parse, true), false);
    assert.equal(binaryBodyParses(new Uint8Array(frame([0])), true, parse, true), false);
    assert.equal(binaryBodyParses(new Uint8Array(frame([10, 5, 97])), true, parse, true), false);
  });
  it("leaves compressed frames and broken framing to the protocol", () => {
    assert.ok(binaryBodyParses(new Uint8Array(frame([0], 1)), true, parse, true));
    assert.ok(binaryBodyParses(new Uint8Array([0, 0, 0, 0, 40, 1]), true, parse, true));
  });
  it("refuses a compressed frame of a request that declares no encoding", () => {
    assert.equal(binaryBodyParses(new Uint8Array(frame([10, 1, 97], 1)), true, parse, false), false);
    assert.ok(binaryBodyParses(new Uint8Array(frame([10, 1, 97])), true, parse, false));
  });
});
