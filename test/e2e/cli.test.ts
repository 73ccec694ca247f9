import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createNodeClient } from "@t2v/client/node";
import { probeVideo } from "../support/ffprobe.js";
import { REPO_ROOT } from "../support/mesh.js";
import { useMesh } from "../support/use-mesh.js";

const CLI = join(REPO_ROOT, "packages", "cli", "dist", "main.js");

const mesh = useMesh();
const dir = await mkdtemp(join(tmpdir(), "t2v-cli-"));

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `t2v ARGS` as a user would, with T2V_SERVER and T2V_API_KEY from the environment. */
function t2v(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, T2V_SERVER: mesh.baseUrl, T2V_API_KEY: mesh.apiKey, DATA_DIR: dir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("t2v CLI against the real mesh", () => {
  it("answers --help on every command with exit 0, and usage errors with exit 2", async () => {
    for (const c of [
      "generate",
      "get",
      "list",
      "watch",
      "cancel",
      "delete",
      "batch",
      "up",
      "keys",
      "usage",
      "dead-letters",
    ]) {
      const r = await t2v([c, "--help"]);
      assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
      assert.match(r.stdout, /usage:/, c);
    }
    const top = await t2v(["--help"]);
    assert.match(top.stdout, /exit codes:/);
    assert.equal((await t2v(["get"])).code, 2);
    assert.equal((await t2v(["list", "--bogus"])).code, 2);
    assert.equal((await t2v(["frobnicate"])).code, 2);
  });

  it("exits 3 for a refused key and 4 with the field for a refused request", async () => {
    const auth = await t2v(["list"], { T2V_API_KEY: "t2v_nope1234_notakey" });
    assert.equal(auth.code, 3, auth.stderr);
    const bad = await t2v(["generate", "a fox", "--duration", "2", "--json"]);
    assert.equal(bad.code, 4, bad.stderr);
    const err = JSON.parse(bad.stderr.trim().split("\n").at(-1) ?? "{}") as {
      error: { code: string; field_violations: { field: string }[] };
    };
    assert.equal(err.error.code, "invalid_argument");
    assert.deepEqual(
      err.error.field_violations.map((v) => v.field),
      ["duration"],
    );
    assert.equal((await t2v(["get", "00000000-0000-7000-8000-000000000000"])).code, 4, "unknown task");
  });

  it("generate shows a progress bar with an ETA, writes the MP4; get, list and watch see it", async () => {
    const out = join(dir, "fox.mp4");
    const r = await t2v(
      ["generate", "a red fox in the snow", "--resolution", "480p", "--duration", "3"].concat([
        "--seed",
        "5",
        "--out",
        out,
        "--json",
      ]),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[#*-*\]\s+\d+% processing step \d+\/\d+/);
    assert.match(r.stderr, /ETA \d/);
    const { task, file } = JSON.parse(r.stdout) as { task: { taskId: string; status: string }; file: string };
    assert.equal(file, out);
    assert.equal(task.status, "TASK_STATUS_COMPLETED");
    const facts = await probeVideo(out);
    assert.equal(facts.frames, 72);
    assert.equal(facts.width, 832);

    const got = await t2v(["get", task.taskId, "--json"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as { status: string }).status, "TASK_STATUS_COMPLETED");
    const human = await t2v(["get", task.taskId]);
    assert.match(human.stdout, /status\s+completed/);

    const listed = await t2v(["list", "--status", "completed", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const ids = (JSON.parse(listed.stdout) as { tasks: { taskId: string }[] }).tasks.map((t) => t.taskId);
    assert.ok(ids.includes(task.taskId));

    const watched = await t2v(["watch", task.taskId, "--json"]);
    assert.equal(watched.code, 0, watched.stderr);
    assert.equal(jsonLines(watched.stdout).at(-1)?.status, "TASK_STATUS_COMPLETED");

    const link = (JSON.parse(got.stdout) as { resultUrl: string }).resultUrl;
    assert.equal((await fetch(link)).status, 200);
    const deleted = await t2v(["delete", task.taskId, "--json"]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const d = JSON.parse(deleted.stdout) as { status: string; resultState: string; resultUrl?: string };
    assert.equal(d.status, "TASK_STATUS_COMPLETED");
    assert.equal(d.resultState, "RESULT_STATE_DELETED");
    assert.equal(d.resultUrl, undefined);
    assert.equal((await fetch(link)).status, 404, "the old link no longer serves the video");
    const shown = await t2v(["get", task.taskId]);
    assert.match(shown.stdout, /result\s+deleted/);
    assert.equal((await t2v(["delete", "00000000-0000-7000-8000-000000000000"])).code, 4, "unknown task");
    assert.equal((await t2v(["delete"])).code, 2);
  });

  it("cancel stops a task, and watch then exits 5", async () => {
    const client = createNodeClient({ baseUrl: mesh.baseUrl, apiKey: mesh.apiKey });
    const created = await client.createTask({ prompt: "a slow sunrise", resolution: "720p", duration: 10 });
    const c = await t2v(["cancel", created.taskId, "--json"]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((JSON.parse(c.stdout) as { status: string }).status, "TASK_STATUS_CANCELLED");
    const w = await t2v(["watch", created.taskId]);
    assert.equal(w.code, 5, w.stderr);
    assert.match(w.stderr, /cancelled/);
  });

  it("batch: one MP4 per good line, results.jsonl in input order, bad lines reported, re-run submits nothing twice", async () => {
    const file = join(dir, "batch.jsonl");
    const out = join(dir, "batch-out");
    await writeFile(
      file,
      [
        JSON.stringify({ prompt: "a white sneaker on a turntable", resolution: "480p", duration: 3, seed: 1 }),
        JSON.stringify({ prompt: "a leather bag", resolution: "480p", duration: 2 }),
        "{not json",
        JSON.stringify({ prompt: "a ceramic mug, steam rising", resolution: "480p", duration: 3, seed: 2 }),
      ].join("\n"),
    );
    const first = await t2v(["batch", file, "--out", out, "--concurrency", "2"]);
    assert.equal(first.code, 5, `bad lines make the exit code 5: ${first.stderr}`);
    assert.match(first.stderr, /\[#*-*\]\s+\d+% \d\/4 done/, "one overall progress bar");
    const results = jsonLines(await readFile(join(out, "results.jsonl"), "utf8"));
    assert.deepEqual(
      results.map((r) => [r.line, r.status]),
      [
        [1, "completed"],
        [2, "invalid"],
        [3, "invalid"],
        [4, "completed"],
      ],
    );
    const errorOf = (r: Record<string, unknown> | undefined) => r?.error as { field: string | null } | undefined;
    assert.equal(errorOf(results[1])?.field, "duration", "the server's field violation");
    assert.equal(results[1]?.task_id, null);
    assert.equal(errorOf(results[2])?.field, null, "not JSON: about the whole line");
    for (const r of [results[0], results[3]]) {
      const mp4 = join(out, String(r?.file));
      assert.ok(existsSync(mp4), `${mp4} written`);
      assert.equal((await probeVideo(mp4)).frames, 72);
    }
    const mtime = (await stat(join(out, String(results[0]?.file)))).mtimeMs;

    // An interrupted run is simply run again: the same tasks come back, nothing is submitted twice.
    const again = await t2v(["batch", file, "--out", out, "--json"]);
    assert.equal(again.code, 5, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), {
      total: 4,
      completed: 2,
      failed: 2,
      results: join(out, "results.jsonl"),
    });
    const rerun = jsonLines(await readFile(join(out, "results.jsonl"), "utf8"));
    assert.deepEqual(
      rerun.map((r) => r.task_id),
      results.map((r) => r.task_id),
    );
    assert.equal((await stat(join(out, String(results[0]?.file)))).mtimeMs, mtime, "not downloaded again");
    const mine = await createNodeClient({ baseUrl: mesh.baseUrl, apiKey: mesh.apiKey }).listTasks({ pageSize: 100 });
    const prompts = mine.tasks.map((t) => t.params?.prompt);
    assert.equal(prompts.filter((p) => p === "a white sneaker on a turntable").length, 1, "submitted once");
  });
});
