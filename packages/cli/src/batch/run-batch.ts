import { existsSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { downloadToFile, fieldViolations, type T2vClient } from "@t2v/client/node";
import { RetryInfoSchema } from "@t2v/common/gen/google/rpc/error_details_pb";
import { type CreateTaskRequest, type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { batchIdempotencyKey } from "./batch-idempotency-key.js";
import type { BatchResult } from "./batch-result.js";
import { parseBatchLine } from "./parse-batch-line.js";

export interface BatchOptions {
  client: T2vClient;
  lines: string[];
  outDir: string;
  concurrency: number;
  /** Called whenever the overall state moves, for the progress bar. */
  onProgress?: (state: BatchProgress) => void;
  signal?: AbortSignal;
}

export interface BatchProgress {
  total: number;
  done: number;
  failed: number;
  /** 0 to 1 over all lines, counting each running task's own progress. */
  fraction: number;
}

/** Submissions refused for load (rate limit, queue limit) or outage are retried: the idempotency key makes that safe. */
const RETRYABLE = new Set([Code.ResourceExhausted, Code.Unavailable]);
const MAX_SUBMIT_TRIES = 30;

/**
 * Runs every line, `concurrency` at a time: submit (with an idempotency key),
 * wait, download into outDir. A bad line becomes its own result and never
 * stops the others. Results come back in input order.
 */
export async function runBatch(o: BatchOptions): Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(o.lines.length);
  const fraction = new Array<number>(o.lines.length).fill(0);
  const width = String(o.lines.length).length;
  let next = 0;
  let done = 0;
  let failed = 0;
  const report = (): void =>
    o.onProgress?.({
      total: o.lines.length,
      done,
      failed,
      fraction: fraction.reduce((a, b) => a + b, 0) / Math.max(1, o.lines.length),
    });

  async function one(index: number): Promise<BatchResult> {
    const line = index + 1;
    const text = o.lines[index] ?? "";
    const base = { line, task_id: null, file: null, error: null };
    if (text.trim() === "") return { ...base, status: "skipped" };
    const parsed = parseBatchLine(text);
    if (parsed.kind === "invalid") return { ...base, status: "invalid", error: parsed.error };
    const request = parsed.request;
    if (request.idempotencyKey === "") request.idempotencyKey = batchIdempotencyKey(line, text);
    let created: Task;
    try {
      created = await submit(o.client, request, o.signal);
    } catch (err) {
      const e = ConnectError.from(err);
      const v = fieldViolations(e)[0];
      const status = e.code === Code.InvalidArgument || e.code === Code.AlreadyExists ? "invalid" : "error";
      return { ...base, status, error: { message: v ? v.description : e.rawMessage, field: v?.field ?? null } };
    }
    const withId = { ...base, task_id: created.taskId };
    try {
      const task = await o.client.waitForCompletion(created.taskId, {
        onProgress: (t) => {
          fraction[index] = t.progress;
          report();
        },
        ...(o.signal ? { signal: o.signal } : {}),
      });
      if (task.status !== TaskStatus.COMPLETED) {
        const status = task.status === TaskStatus.CANCELLED ? "cancelled" : "failed";
        return { ...withId, status, error: { message: task.errorMessage || status, field: null } };
      }
      const file = `${String(line).padStart(width, "0")}-${task.taskId}.mp4`;
      // A re-run finds the files of the first run: they were renamed into place only when whole.
      if (!existsSync(join(o.outDir, file))) await downloadToFile(o.client, task, join(o.outDir, file), o.signal);
      return { ...withId, status: "completed", file };
    } catch (err) {
      return { ...withId, status: "error", error: { message: ConnectError.from(err).rawMessage, field: null } };
    }
  }

  async function worker(): Promise<void> {
    for (let i = next++; i < o.lines.length; i = next++) {
      const r = await one(i);
      results[i] = r;
      fraction[i] = 1;
      done++;
      if (r.status !== "completed" && r.status !== "skipped") failed++;
      report();
    }
  }

  report();
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.lines.length) }, worker));
  return results;
}

async function submit(client: T2vClient, request: CreateTaskRequest, signal?: AbortSignal): Promise<Task> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.createTask(request, signal ? { signal } : {});
    } catch (err) {
      const e = ConnectError.from(err);
      if (!RETRYABLE.has(e.code) || attempt >= MAX_SUBMIT_TRIES || signal?.aborted) throw e;
      const hint = e.findDetails(RetryInfoSchema)[0]?.retryDelay;
      const ms = hint ? Number(hint.seconds) * 1000 + hint.nanos / 1e6 : Math.min(30_000, 500 * 2 ** attempt);
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}
