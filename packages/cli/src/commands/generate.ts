import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Task, TaskStatus } from "@t2v/common/gen/t2v/v1/video_service_pb";
import { isTerminal } from "@t2v/common/task";
import { type Protocol, videoClient } from "./client.js";
import { renderProgress } from "./render-progress.js";

export interface GenerateOptions {
  server: string;
  protocol: Protocol;
  /** Bearer key; T2V_API_KEY when not given. */
  apiKey?: string;
  prompt: string;
  negativePrompt?: string;
  resolution?: string;
  duration?: number;
  frameRate?: number;
  seed?: number;
  style?: string;
  out?: string;
}

export interface Terminal {
  isTTY: boolean;
  write(s: string): void;
}

const MAX_WATCH_RECONNECTS = 10;

/** Submits a task, follows WatchTask with a progress bar, and downloads the MP4. */
export async function generate(o: GenerateOptions, term: Terminal): Promise<{ task: Task; file: string }> {
  const client = videoClient(o.server, o.protocol, o.apiKey ?? process.env.T2V_API_KEY ?? "");
  let task = await client.createTask({
    prompt: o.prompt,
    negativePrompt: o.negativePrompt ?? "",
    resolution: o.resolution ?? "",
    style: o.style ?? "",
    ...(o.duration !== undefined ? { duration: o.duration } : {}),
    ...(o.frameRate !== undefined ? { frameRate: o.frameRate } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
  term.write(`task ${task.taskId} queued (seed ${task.params?.seed}, ${task.params?.numFrames} frames)\n`);

  let last = "";
  const show = (t: Task): void => {
    const line = renderProgress(t);
    if (line === last) return;
    last = line;
    term.write(term.isTTY ? `\r${line}` : `${line}\n`);
  };

  // A dropped stream (gateway restart, proxy timeout) is resumed: the task lives on.
  for (let tries = 0; !isTerminal(task.status); tries++) {
    try {
      for await (const ev of client.watchTask({ taskId: task.taskId })) {
        if (ev.task) {
          task = ev.task;
          show(task);
        }
      }
    } catch (err) {
      const code = err instanceof ConnectError ? err.code : Code.Unknown;
      if (tries >= MAX_WATCH_RECONNECTS || code === Code.NotFound || code === Code.InvalidArgument) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
      task = await client.getTask({ taskId: task.taskId });
    }
  }
  if (term.isTTY) term.write("\n");
  if (task.status !== TaskStatus.COMPLETED) {
    throw new Error(
      `task ${task.taskId} ${TaskStatus[task.status]?.toLowerCase()}: ${task.errorMessage || "no reason given"}`,
    );
  }
  const file = o.out ?? `${task.taskId}.mp4`;
  const res = await fetch(task.resultUrl);
  if (!res.ok || !res.body) throw new Error(`download of ${task.resultUrl} failed: HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), createWriteStream(file));
  term.write(`wrote ${file}\n`);
  return { task, file };
}
