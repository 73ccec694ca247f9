import type { BlobStore, BlobStoreSpec, Bus } from "./bus/bus.js";
import { HOUR_MS } from "./durations.js";

/** Latents between denoise and decode: deleted once decoded; a day is plenty for retries. */
export const LATENTS_STORE: BlobStoreSpec = { name: "t2v_latents", ttlMs: 24 * HOUR_MS };

/** Finished MP4s and their posters. */
export function videosStore(ttlHours: number): BlobStoreSpec {
  return { name: "t2v_videos", ttlMs: ttlHours * HOUR_MS };
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
export const videoObjectName = (taskId: string): string => `${taskId}.mp4`;
export const posterObjectName = (taskId: string): string => `${taskId}.jpg`;
