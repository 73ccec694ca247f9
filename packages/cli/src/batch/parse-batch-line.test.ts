import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchIdempotencyKey } from "./batch-idempotency-key.js";
import { parseBatchLine } from "./parse-batch-line.js";

describe("parseBatchLine", () => {
  it("reads CreateTask fields in snake_case or camelCase", () => {
    const a = parseBatchLine('{"prompt":"a mug","negative_prompt":"text","frame_rate":16,"seed":3}');
    const b = parseBatchLine('{"prompt":"a mug","negativePrompt":"text","frameRate":16,"seed":3}');
    assert.equal(a.kind, "request");
    assert.equal(b.kind, "request");
    if (a.kind !== "request" || b.kind !== "request") return;
    assert.equal(a.request.negativePrompt, "text");
    assert.equal(a.request.frameRate, 16);
    assert.equal(b.request.seed, 3);
  });

  it("names the field of a wrong type or an unknown key, and none for a line that is not an object", () => {
    const cases: [string, string | null][] = [
      ['{"prompt":"x","duration":"long"}', "duration"],
      ['{"prompt":"x","seed":-1}', "seed"],
      ['{"prompt":"x","colour":"red"}', "colour"],
      ["{not json", null],
      ["[1,2]", null],
      ['"a prompt"', null],
    ];
    for (const [line, field] of cases) {
      const r = parseBatchLine(line);
      assert.equal(r.kind, "invalid", line);
      if (r.kind === "invalid") assert.equal(r.error.field, field, line);
    }
  });
});

describe("batchIdempotencyKey", () => {
  it("is the same for the same line at the same place, and differs otherwise", () => {
    const line = '{"prompt":"a mug"}';
    assert.equal(batchIdempotencyKey(3, line), batchIdempotencyKey(3, `${line}  `));
    assert.notEqual(batchIdempotencyKey(3, line), batchIdempotencyKey(4, line), "two identical lines make two clips");
    assert.notEqual(batchIdempotencyKey(3, line), batchIdempotencyKey(3, '{"prompt":"a cup"}'));
    assert.match(batchIdempotencyKey(1, line), /^[\x21-\x7e]{1,255}$/, "printable ASCII within the server's limit");
  });
});
