import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "@nats-io/transport-node";
import { type Bus, createNatsBus, openMediaStores } from "@t2v/common/channels";
import type { TaskRecord } from "@t2v/common/gen/t2v/internal/v1/task_record_pb";
import type { Tier } from "@t2v/common/task";
import { submitQueuedTask } from "@t2v/common/testing/queued-task";
import type { TestMesh } from "./mesh.js";

const run = promisify(execFile);

export interface Clip {
  tenant: string;
  pool?: Tier;
  steps: number;
  width?: number;
  height?: number;
  numFrames?: number;
  seed?: number;
}

/**
 * A seeded clip task with a set number of steps, written and submitted the
 * way the gateway does (a RerunTask override is the API's way to ask for
 * steps), so long denoises can be paused, preempted and compared.
 */
export function submitClip(mesh: TestMesh, c: Clip): Promise<string> {
  const height = c.height ?? 720;
  return submitQueuedTask(mesh.channels, {
    tenant: c.tenant,
    pool: c.pool,
    prompt: "a lighthouse in a storm at dusk",
    width: c.width ?? (height === 720 ? 1280 : 832),
    height,
    numFrames: c.numFrames ?? 121,
    frameRate: 24,
    seed: c.seed ?? 4242,
    seedExplicit: true,
    requestedSteps: c.steps,
  });
}

/** ffmpeg's MD5 of every decoded frame of completed tasks' videos (header lines dropped: they name the file). */
export async function frameMd5s(mesh: TestMesh, records: TaskRecord[]): Promise<string[][]> {
  const dir = await mkdtemp(join(tmpdir(), "t2v-frames-"));
  let bus: Bus | undefined;
  try {
    bus = await createNatsBus(
      await connect({ servers: mesh.natsUrl.split(","), name: "e2e-frames", ...mesh.nats.admin }),
    );
    const { videos } = await openMediaStores(bus, { videoTtlHours: 168 });
    const out: string[][] = [];
    for (const r of records) {
      const bytes = await videos.get(r.videoObject);
      if (!bytes) throw new Error(`video ${r.videoObject} not stored`);
      const file = join(dir, `${r.task?.taskId}.mp4`);
      await writeFile(file, bytes);
      const { stdout } = await run("ffmpeg", ["-v", "error", "-i", file, "-f", "framemd5", "-"]);
      out.push(stdout.split("\n").filter((l) => l !== "" && !l.startsWith("#")));
    }
    return out;
  } finally {
    await bus?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A process's JSON log lines about a task with this message. */
export function logLines(mesh: TestMesh, service: string, taskId: string, msg: string): Record<string, unknown>[] {
  return mesh
    .logs(service)
    .split("\n")
    .filter((l) => l.includes(taskId) && l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
