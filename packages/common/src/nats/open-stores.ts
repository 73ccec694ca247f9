import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { nanos } from "@nats-io/nats-core";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { openBucket } from "./open-bucket.js";
import { createTaskStore, type TaskStore } from "./task-store.js";
import { Buckets, ensureStreams } from "./topology.js";

export interface Stores {
  tasks: TaskStore;
  latents: ObjectStore;
  videos: ObjectStore;
}

/** Opens (creating when missing) the streams, the task bucket and the object stores. */
export async function openStores(nc: NatsConnection, opts: { videoTtlHours: number }): Promise<Stores> {
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  const js = jetstream(nc);
  const [kv, index] = await Promise.all([openBucket(nc, Buckets.tasks), openBucket(nc, Buckets.taskIndex)]);
  const objm = new Objm(js);
  const latents = await objm.create(Buckets.latents, { storage: "file", ttl: nanos(24 * 3600 * 1000) });
  const videos = await objm.create(Buckets.videos, { storage: "file", ttl: nanos(opts.videoTtlHours * 3600 * 1000) });
  return { tasks: createTaskStore(kv, index), latents, videos };
}
