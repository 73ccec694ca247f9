import type { BlobStore, Bus } from "../bus/bus.js";
import { openMediaStores, posterObjectName, videoObjectName } from "../media-stores.js";
import { createS3ClientFromEnv, createS3LinkClientFromEnv, type ResultStoreConfig } from "./result-store-config.js";
import { createS3BlobStore, type ResultLinks, type UploadReport } from "./s3-blob-store.js";

/** Where finished videos and posters live, the same for the encoder (writes), scheduler (cache checks) and gateway. */
export interface ResultStore {
  readonly kind: "nats" | "s3";
  /** `<task>.mp4` and `<task>.jpg`. */
  readonly videos: BlobStore;
  /** Links of the store itself (S3 presigned GETs); undefined on JetStream, where the gateway signs its own. */
  readonly links: ResultLinks | undefined;
  /** Removes a task's video and poster; idempotent. */
  deleteTask(taskId: string): Promise<void>;
}

export interface OpenResultStoreOptions {
  /** Logs each S3 upload (size, parts, verification). */
  onUpload?: (report: UploadReport) => void;
  /** Where our S3_* variables are read from (the SDK reads AWS_* from process.env itself). */
  env?: NodeJS.ProcessEnv;
  /** HeadBucket at start-up, so a missing bucket or bad credentials stop the service at once. Default true. */
  check?: boolean;
}

/**
 * Opens the result store RESULT_STORE names: JetStream's `t2v_videos` (TTL VIDEO_TTL_HOURS) or an S3
 * bucket and prefix. Latents never come here: they stay on JetStream (openMediaStores).
 */
export async function openResultStore(
  config: ResultStoreConfig & { readonly videoTtlHours: number },
  bus: Bus,
  opts: OpenResultStoreOptions = {},
): Promise<ResultStore> {
  const target = config.resultStore;
  if (target.kind === "nats") {
    const { videos } = await openMediaStores(bus, { videoTtlHours: config.videoTtlHours });
    return {
      kind: "nats",
      videos,
      links: undefined,
      async deleteTask(taskId) {
        await Promise.all([videos.delete(videoObjectName(taskId)), videos.delete(posterObjectName(taskId))]);
      },
    };
  }
  const env = opts.env ?? process.env;
  const linkClient = createS3LinkClientFromEnv(env);
  const s3 = createS3BlobStore({
    client: createS3ClientFromEnv(env),
    ...(linkClient ? { linkClient } : {}),
    bucket: target.bucket,
    prefix: target.prefix,
    checksum: config.s3Checksum,
    ...(opts.onUpload ? { onUpload: opts.onUpload } : {}),
  });
  if (opts.check ?? true) await s3.check();
  return {
    kind: "s3",
    videos: s3,
    links: s3,
    async deleteTask(taskId) {
      // The dot keeps task "abc" from matching task "abcd".
      await s3.deleteByPrefix(`${taskId}.`);
    },
  };
}
