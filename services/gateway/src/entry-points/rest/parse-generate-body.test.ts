import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorResponse } from "./error-response.js";
import { parseGenerateBody } from "./parse-generate-body.js";

function refusal(text: string): string[] {
  try {
    parseGenerateBody(text);
  } catch (err) {
    const r = errorResponse(err);
    assert.equal(r.status, 400);
    return r.body.error.field_violations?.map((f) => f.field) ?? [];
  }
  return assert.fail("accepted");
}

describe("parseGenerateBody", () => {
  it("reads the generate body of the REST compatibility API", () => {
    const r = parseGenerateBody(
      JSON.stringify({
        prompt: "樱花",
        negative_prompt: "blurry",
        resolution: "720p",
        duration: 6.0,
        frame_rate: 24,
        style: "cinematic",
      }),
    );
    assert.equal(r.prompt, "樱花");
    assert.equal(r.duration, 6);
    assert.equal(r.frameRate, 24);
    assert.equal(r.seed, undefined);
  });
  it("refuses a resolution given as anything but 480p or 720p, empty and null included, as the article's model did", () => {
    for (const r of ['""', "null", '"1080p"', '"720P"', "720"]) {
      assert.deepEqual(refusal(`{"prompt":"x","resolution":${r}}`), ["resolution"], `resolution ${r}`);
    }
    assert.equal(parseGenerateBody('{"prompt":"x"}').resolution, "");
    assert.equal(parseGenerateBody('{"prompt":"x","resolution":"480p"}').resolution, "480p");
  });
  it("refuses timeouts no Duration can hold, or out of the contract's range", () => {
    for (const t of ["1e308", "-1", "59", "86401"]) {
      assert.throws(() => parseGenerateBody(`{"prompt":"x","timeout":${t}}`), /timeout/);
    }
  });

  it("treats null as not given and reads timeout in seconds", () => {
    const r = parseGenerateBody('{"prompt":"x","duration":null,"timeout":90.5}');
    assert.equal(r.duration, undefined);
    assert.equal(r.timeout?.seconds, 90n);
    assert.equal(r.timeout?.nanos, 500_000_000);
  });
  it("refuses bad JSON and wrong types with 400", () => {
    assert.deepEqual(refusal("{"), ["body"]);
    assert.deepEqual(refusal("[1]"), ["body"]);
    assert.deepEqual(refusal("null"), ["body"]);
    assert.deepEqual(refusal('{"prompt":5,"duration":"5","frame_rate":24.5,"seed":-1}'), [
      "prompt",
      "duration",
      "frame_rate",
      "seed",
    ]);
    assert.deepEqual(refusal('{"prompt":"x","duration":1e999}'), ["duration"]);
  });
});

describe("errorResponse", () => {
  it("maps codes to HTTP statuses", () => {
    assert.equal(errorResponse(new ConnectError("x", Code.Unauthenticated)).status, 401);
    assert.equal(errorResponse(new ConnectError("x", Code.NotFound)).status, 404);
    assert.equal(errorResponse(new ConnectError("x", Code.AlreadyExists)).status, 409);
    assert.equal(errorResponse(new Error("boom")).status, 500);
  });
});
