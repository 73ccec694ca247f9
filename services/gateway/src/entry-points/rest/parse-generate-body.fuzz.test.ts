import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { fuzzRuns } from "../../testing/fuzz-runs.js";
import { errorResponse } from "./error-response.js";
import { parseGenerateBody } from "./parse-generate-body.js";

const FIELDS = [
  "prompt",
  "negative_prompt",
  "resolution",
  "duration",
  "frame_rate",
  "style",
  "seed",
  "webhook_url",
  "timeout",
  "idempotency_key",
] as const;

/** Accepted, or refused with 400 INVALID_ARGUMENT naming only fields of the body: never another error. */
function parsesOrRefuses(text: string): void {
  let req: ReturnType<typeof parseGenerateBody>;
  try {
    req = parseGenerateBody(text);
  } catch (err) {
    assert.ok(err instanceof ConnectError, `threw ${String(err)}`);
    assert.equal(err.code, Code.InvalidArgument);
    const r = errorResponse(err);
    assert.equal(r.status, 400);
    const fields = r.body.error.field_violations?.map((v) => v.field) ?? [];
    assert.ok(fields.length > 0, "a refusal names its field");
    for (const f of fields) assert.ok(f === "body" || (FIELDS as readonly string[]).includes(f), `field ${f}`);
    return;
  }
  assert.ok(["", "480p", "720p"].includes(req.resolution), `resolution ${req.resolution}`);
  for (const n of [req.frameRate, req.seed])
    if (n !== undefined) assert.ok(Number.isInteger(n) && n >= 0 && n <= 4_294_967_295, `integer ${n}`);
  if (req.duration !== undefined) assert.ok(Number.isFinite(req.duration));
  if (req.timeout) assert.ok(req.timeout.seconds >= 60n && req.timeout.seconds <= 86_400n);
}

/** A value of any JSON type, numbers at their edges included. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom("480p", "720p", "", "720P", "1080p", null, -1, 0, 60, 86_400, 86_401, 4_294_967_296, 1e308, -0, 0.5),
  fc.double(),
  fc.integer(),
  fc.string(),
);

describe("parseGenerateBody (fuzz, fast-check)", () => {
  it("any text: a request or a 400 naming the body", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.json({ maxDepth: 3 }),
          fc.string({ unit: "binary", maxLength: 300 }),
        ),
        parsesOrRefuses,
      ),
      {
        numRuns: fuzzRuns(),
      },
    );
  });

  it("any object of the API's fields (any JSON value each, extra keys too): a request or a 400 naming the fields", () => {
    const body = fc.record(
      Object.fromEntries(FIELDS.map((f) => [f, anyValue])) as Record<(typeof FIELDS)[number], typeof anyValue>,
      { requiredKeys: [] },
    );
    const extra = fc.dictionary(fc.string({ maxLength: 8 }), anyValue, { maxKeys: 3 });
    fc.assert(
      fc.property(body, extra, (b, x) => parsesOrRefuses(JSON.stringify({ ...x, ...b }))),
      { numRuns: fuzzRuns() },
    );
  });

  it("a valid body stays valid: every field it gives is read back", () => {
    const valid = fc.record(
      {
        prompt: fc.string({ minLength: 1, maxLength: 200 }),
        resolution: fc.constantFrom("480p", "720p"),
        duration: fc.double({ min: 1, max: 10, noNaN: true }),
        frame_rate: fc.integer({ min: 1, max: 60 }),
        seed: fc.integer({ min: 0, max: 4_294_967_295 }),
        timeout: fc.integer({ min: 60, max: 86_400 }),
      },
      { requiredKeys: ["prompt"] },
    );
    fc.assert(
      fc.property(valid, (b) => {
        const r = parseGenerateBody(JSON.stringify(b));
        assert.equal(r.prompt, b.prompt);
        assert.equal(r.resolution, b.resolution ?? "");
        assert.equal(r.duration, b.duration);
        assert.equal(r.frameRate, b.frame_rate);
        assert.equal(r.seed, b.seed);
        assert.equal(r.timeout?.seconds, b.timeout === undefined ? undefined : BigInt(b.timeout));
      }),
      { numRuns: fuzzRuns() },
    );
  });
});
