import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { buildFaultyReferenceModel } from "@t2v/model/test-support/faulty-model";
import { useMesh } from "../support/use-mesh.js";
import { waitUntil } from "../support/wait.js";

// The inference engine against a real nats-server, scheduler and encoder, with a model whose
// low-noise expert fails inside onnxruntime for one-frame clips (and works for longer ones).
let modelDir = "";

const mesh = useMesh(async () => {
  modelDir = await mkdtemp(join(tmpdir(), "t2v-faulty-model-"));
  await buildFaultyReferenceModel(modelDir);
  return {
    env: { MODEL_DIR: modelDir, MAX_ATTEMPTS: "2", RETRY_BASE_DELAY_MS: "100", RETRY_MAX_DELAY_MS: "200" },
    services: ["scheduler", "inference", "encoder"],
  };
});

// After the mesh's own `after`, which stops the processes that use the model.
after(async () => {
  if (modelDir) await rm(modelDir, { recursive: true, force: true });
});

const inferenceLines = (taskId: string, msg: string): number =>
  mesh
    .logs("inference")
    .split("\n")
    .filter((l) => l.includes(taskId) && l.includes(`"msg":"${msg}"`)).length;

describe("inference engine", () => {
  it("fails a task on a model runtime error with its message and keeps serving", async () => {
    const broken = await mesh.direct.submit({ tenant: "t", numFrames: 1, frameRate: 16, prompt: "one frame" });
    const fine = await mesh.direct.submit({ tenant: "t", numFrames: 17, frameRate: 16, prompt: "seventeen frames" });
    const failed = await mesh.direct.waitForEnd(broken, 60_000);
    assert.equal(failed.task?.status, TaskStatus.FAILED);
    // Retried (MAX_ATTEMPTS=2), then given up: users read the code and a short
    // message naming the model; onnxruntime's own words stay in the record.
    assert.equal(failed.task?.errorCode, "RETRIES_EXHAUSTED");
    assert.match(failed.task?.errorMessage ?? "", /the model failed while rendering/);
    assert.match(failed.lastError, /Gather|indices/);
    const done = await mesh.direct.waitForEnd(fine, 60_000);
    assert.equal(done.task?.status, TaskStatus.COMPLETED, done.task?.errorMessage);
    // The same process served both: the model was not reloaded.
    assert.equal(mesh.logs("inference").split('"msg":"model loaded"').length - 1, 1);
  });

  it("holds and prepares the next job while one denoises, and runs every task once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        await mesh.direct.submit({ tenant: "t", numFrames: 33, frameRate: 16, prompt: `pipelined ${i}`, seed: i }),
      );
    for (const id of ids) {
      const r = await mesh.direct.waitForEnd(id, 90_000);
      assert.equal(r.task?.status, TaskStatus.COMPLETED, r.task?.errorMessage);
      assert.equal(inferenceLines(id, "denoised"), 1);
    }
    const held = ids.filter((id) => inferenceLines(id, "next job held and prepared") > 0);
    assert.ok(held.length >= 1, "a task was held and prepared while another denoised");
  });

  it("on SIGTERM hands the held job back at once and the running one too; both finish later", async () => {
    const first = await mesh.direct.submit({ tenant: "t", numFrames: 81, frameRate: 16, prompt: "long one", seed: 11 });
    const second = await mesh.direct.submit({
      tenant: "t",
      numFrames: 17,
      frameRate: 16,
      prompt: "held one",
      seed: 12,
    });
    await waitUntil(
      async () => inferenceLines(second, "next job held and prepared"),
      (n) => n > 0,
      { timeoutMs: 30_000, everyMs: 50, what: "the second job held" },
    );
    const stopping = Date.now();
    await mesh.kill("inference");
    assert.ok(Date.now() - stopping < 10_000, "the worker stopped promptly");
    const logs = mesh.logs("inference");
    assert.match(logs, /handing the held job back/);
    assert.match(logs, /handing the task back/);
    assert.equal(inferenceLines(second, "denoised"), 0, "the held job never ran on the stopped worker");

    await mesh.start("inference");
    for (const id of [first, second]) {
      const r = await mesh.direct.waitForEnd(id, 90_000);
      assert.equal(r.task?.status, TaskStatus.COMPLETED, r.task?.errorMessage);
    }
  });
});
