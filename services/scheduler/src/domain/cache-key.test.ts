import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { GenerationParamsSchema } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { cacheKey } from "./cache-key.js";

const params = (
  over: Partial<{
    seed: number;
    seedExplicit: boolean;
    prompt: string;
    effectivePrompt: string;
    effectiveNegativePrompt: string;
    draft: boolean;
  }> = {},
) =>
  create(GenerationParamsSchema, {
    prompt: "p",
    negativePrompt: "n",
    resolution: "480p",
    duration: 3,
    frameRate: 24,
    seed: 5,
    seedExplicit: true,
    ...over,
  });

describe("cacheKey", () => {
  it("is stable for identical requests and differs when anything that shapes the output differs", () => {
    const k = cacheKey("t1", "m@1", params());
    assert.equal(k, cacheKey("t1", "m@1", params()));
    assert.notEqual(k, cacheKey("t2", "m@1", params()));
    assert.notEqual(k, cacheKey("t1", "m@2", params()));
    assert.notEqual(k, cacheKey("t1", "m@1", params({ seed: 6 })));
    assert.notEqual(k, cacheKey("t1", "m@1", params({ prompt: "q" })));
  });
  it("differs for another style template, a draft and other steps", () => {
    const k = cacheKey("t1", "m@1", params());
    assert.notEqual(k, cacheKey("t1", "m@1", params({ effectivePrompt: "p, cinematic lighting" })));
    assert.notEqual(k, cacheKey("t1", "m@1", params({ effectiveNegativePrompt: "n, cartoon" })));
    assert.notEqual(k, cacheKey("t1", "m@1", params({ draft: true })));
    assert.notEqual(k, cacheKey("t1", "m@1", params(), 8));
  });
  it("never caches requests without an explicit seed", () => {
    assert.equal(cacheKey("t1", "m@1", params({ seedExplicit: false })), "");
  });
});
