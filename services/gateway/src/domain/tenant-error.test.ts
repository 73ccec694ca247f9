import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tenantError } from "./tenant-error.js";

describe("tenantError", () => {
  it("keeps the messages the mesh writes", () => {
    for (const [code, message] of [
      ["MODEL_RUNTIME_ERROR", "attempt 1 failed (MODEL_RUNTIME_ERROR); retrying"],
      ["RETRIES_EXHAUSTED", "failed after 3 attempts: the model failed while rendering"],
      ["ENCODER_ERROR", "the video could not be encoded"],
      ["INTERNAL", "could not be queued; please retry"],
      ["", ""],
    ])
      assert.deepEqual(tenantError(code ?? "", message ?? ""), { code, message });
  });

  it("replaces worker output, stack traces and paths with the code's short message", () => {
    assert.deepEqual(tenantError("ENCODER_ERROR", "ffmpeg exited with 1: /tmp/t2v/x.mp4: Invalid argument"), {
      code: "ENCODER_ERROR",
      message: "the video could not be encoded",
    });
    assert.deepEqual(
      tenantError("RETRIES_EXHAUSTED", "failed after 3 attempts: [ONNXRuntimeError] : 2 : at /models/unet.onnx"),
      { code: "RETRIES_EXHAUSTED", message: "every attempt failed" },
    );
    assert.deepEqual(tenantError("bad code\n", "Error: x\n    at f (/srv/a.js:1:2)"), {
      code: "INTERNAL",
      message: "internal error",
    });
    assert.deepEqual(tenantError("NEW_CODE", "engine worker exited (code 1)"), {
      code: "NEW_CODE",
      message: "the task failed (NEW_CODE)",
    });
  });
});
