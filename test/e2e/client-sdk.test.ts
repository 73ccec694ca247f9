import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { createNodeClient, downloadToFile, fieldViolations, type T2vClient } from "@t2v/client/node";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { probeVideo } from "../support/ffprobe.js";
import { lateBound } from "../support/late-bound.js";
import { useMesh } from "../support/use-mesh.js";

const mesh = useMesh();
let sdk: T2vClient | undefined;
/** The SDK on the mesh's gateway and key, made on first use (the mesh starts in a `before` hook). */
const client = lateBound(() => {
  sdk ??= createNodeClient({ baseUrl: mesh.baseUrl, apiKey: mesh.apiKey });
  return sdk;
});
const dir = await mkdtemp(join(tmpdir(), "t2v-sdk-"));

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SMALL = { resolution: "480p", duration: 3 } as const;

describe("@t2v/client against the real mesh", () => {
  it("createTask, watch to the end with progress never going down, download the MP4", async () => {
    const created = await client.createTask({ prompt: "a lantern drifting on a lake", ...SMALL, seed: 31 });
    assert.equal(created.status, TaskStatus.QUEUED);
    const seen: Task[] = [];
    for await (const ev of client.watch(created.taskId)) if (ev.task) seen.push(ev.task);
    assert.equal(seen.at(-1)?.status, TaskStatus.COMPLETED, seen.at(-1)?.errorMessage);
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.progress ?? 0) >= (seen[i - 1]?.progress ?? 0));
    assert.ok(seen.some((t) => t.status === TaskStatus.PROCESSING && t.currentStep > 0));
    const last = seen.at(-1) ?? assert.fail();

    const chunks: Uint8Array[] = [];
    for await (const c of await client.download(last)) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.subarray(4, 8).toString("latin1"), "ftyp", "an MP4");
    const file = join(dir, "lantern.mp4");
    await downloadToFile(client, last, file);
    assert.deepEqual(await readFile(file), bytes);
    assert.equal((await probeVideo(file)).frames, 72);
  });

  it("waitForCompletion reports progress, and the watch survives a gateway restart", async () => {
    const created = await client.createTask({ prompt: "rain on a tin roof", ...SMALL, seed: 32 });
    const progress: number[] = [];
    let restarted: Promise<void> | undefined;
    let gatewayBack = false;
    let eventsFromNewGateway = 0;
    const task = await client.waitForCompletion(created.taskId, {
      onProgress: (t) => {
        progress.push(t.progress);
        if (gatewayBack) eventsFromNewGateway++;
        // Drop the stream mid-task: the SDK reconnects and the task goes on.
        if (!restarted && t.status === TaskStatus.PROCESSING) {
          restarted = mesh
            .kill("gateway")
            .then(() => mesh.start("gateway"))
            .then(() => {
              gatewayBack = true;
            });
        }
      },
    });
    await restarted;
    assert.ok(restarted, "the gateway was restarted during the watch");
    assert.ok(eventsFromNewGateway > 0, "events kept coming from the restarted gateway");
    assert.equal(task.status, TaskStatus.COMPLETED, task.errorMessage);
    assert.equal(progress.at(-1), 1);
    for (let i = 1; i < progress.length; i++) assert.ok((progress[i] ?? 0) >= (progress[i - 1] ?? 0));
  });

  it("waitForCompletion honours a timeout and an AbortSignal; the task goes on", async () => {
    const created = await client.createTask({ prompt: "a clock tower at noon", ...SMALL });
    await assert.rejects(client.waitForCompletion(created.taskId, { timeoutMs: 50 }), (err) => {
      assert.equal(ConnectError.from(err).code, Code.DeadlineExceeded);
      return true;
    });
    const ctl = new AbortController();
    const reason = new Error("user gave up");
    const waiting = client.waitForCompletion(created.taskId, { signal: ctl.signal });
    ctl.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
    const still = await client.getTask(created.taskId);
    assert.notEqual(still.status, TaskStatus.CANCELLED);
    await client.cancelTask(created.taskId);
  });

  it("speaks gRPC and gRPC-Web too, exposes field violations, and reports the optional methods the contract has", async () => {
    const created = await client.createTask({ prompt: "a kite over dunes", ...SMALL });
    for (const protocol of ["grpc", "grpc-web"] as const) {
      const other = createNodeClient({ baseUrl: mesh.baseUrl, apiKey: mesh.apiKey, protocol });
      assert.equal((await other.getTask(created.taskId)).taskId, created.taskId, protocol);
    }
    await client.cancelTask(created.taskId);
    const err = await client.createTask({ prompt: "", duration: 11 }).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    );
    assert.equal(ConnectError.from(err).code, Code.InvalidArgument);
    assert.deepEqual(
      fieldViolations(err)
        .map((v) => v.field)
        .sort(),
      ["duration", "prompt"],
    );
    const anonymous = createNodeClient({ baseUrl: mesh.baseUrl, apiKey: "" });
    await assert.rejects(anonymous.listTasks(), (e) => ConnectError.from(e).code === Code.Unauthenticated);
    // PauseTask is in the contract now: feature detection says so, and the call reaches the gateway
    // (a cancelled task cannot be paused: FAILED_PRECONDITION, not UNIMPLEMENTED).
    assert.equal(client.supports("pauseTask"), true);
    assert.equal(client.supports("resumeTask"), true);
    await assert.rejects(
      client.pauseTask(created.taskId),
      (e) => ConnectError.from(e).code === Code.FailedPrecondition,
    );
    const listed = await client.listTasks({ pageSize: 10 });
    assert.ok(listed.tasks.some((t) => t.taskId === created.taskId));
  });
});
