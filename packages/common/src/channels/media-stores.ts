import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import type { BlobStore, BlobStoreSpec, Bus } from "./bus/bus.js";
import { HOUR_MS } from "./durations.js";

/** Latents between denoise and decode: deleted once decoded; a day is plenty for retries. */
export const LATENTS_STORE: BlobStoreSpec = { name: "t2v_latents", ttlMs: 24 * HOUR_MS };

/** The videos store's name; its TTL is an operator setting (`videosStore`). */
export const VIDEOS_STORE_NAME = "t2v_videos";

/** Finished MP4s and their posters. */
export function videosStore(ttlHours: number): BlobStoreSpec {
  return { name: VIDEOS_STORE_NAME, ttlMs: ttlHours * HOUR_MS };
}

/**
 * Denoising checkpoints of running tasks (`checkpointObjectName`): rewritten every few tens of
 * seconds while a task denoises, deleted once its latents are stored or it is cancelled. The TTL
 * (counted from the last write) removes those of tasks that failed for good or whose model
 * changed, and outlasts any retry chain and any pause (PAUSED_TTL_HOURS is below it). The
 * inference worker reads and writes it; the scheduler deletes a paused task's when its pause expires.
 */
export const CHECKPOINTS_STORE: BlobStoreSpec = { name: "t2v_checkpoints", ttlMs: 48 * HOUR_MS };

/** The media stores' size limits in GiB (LATENTS_STORE_MAX_GB, CHECKPOINTS_STORE_MAX_GB, VIDEOS_STORE_MAX_GB). */
export interface MediaStoreLimits {
  readonly latentsStoreMaxGb: number;
  readonly checkpointsStoreMaxGb: number;
  readonly videosStoreMaxGb: number;
}

/** Bytes by store name, as `createNatsBus` and `createMemoryBus` take them (`storeLimits`). */
export function mediaStoreLimits(l: MediaStoreLimits): Readonly<Record<string, number>> {
  const gib = 2 ** 30;
  return {
    [LATENTS_STORE.name]: l.latentsStoreMaxGb * gib,
    [CHECKPOINTS_STORE.name]: l.checkpointsStoreMaxGb * gib,
    [VIDEOS_STORE_NAME]: l.videosStoreMaxGb * gib,
  };
}

export interface MediaStores {
  latents: BlobStore;
  videos: BlobStore;
}

/** Where a task's latents and finished video go; names are `<task>.<attempt>` and `<task>.mp4|.jpg`. */
export async function openMediaStores(bus: Bus, opts: { videoTtlHours: number }): Promise<MediaStores> {
  const [latents, videos] = await Promise.all([bus.blobs(LATENTS_STORE), bus.blobs(videosStore(opts.videoTtlHours))]);
  return { latents, videos };
}

export const latentObjectName = (taskId: string, attempt: number): string => `${taskId}.${attempt}`;
/**
 * The latents' names of every attempt of a task that may have written some: 1 to the later of
 * its attempt and the attempt last dispatched. Where an ended or deleted task's latents go.
 */
export function latentObjectNames(r: TaskRecord): string[] {
  const taskId = r.task?.taskId ?? "";
  const attempts = Math.max(r.task?.attempt ?? 0, r.dispatchedAttempt, 1);
  return Array.from({ length: attempts }, (_, i) => latentObjectName(taskId, i + 1));
}
export const videoObjectName = (taskId: string): string => `${taskId}.mp4`;
export const posterObjectName = (taskId: string): string => `${taskId}.jpg`;
/**
 * A task's checkpoint for one computation: `key` is the model's `checkpointKey(spec, model)` (a
 * hash of the effective spec and the model name and version), so only the same computation of
 * the same task ever finds it, whichever attempt or worker runs it.
 */
export const checkpointObjectName = (taskId: string, key: string): string => `${taskId}.${key}`;
