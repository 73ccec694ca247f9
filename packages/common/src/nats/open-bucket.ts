import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { Buckets } from "./topology.js";

const HOUR_MS = 3_600_000;
const TASK_RETENTION_MS = 30 * 24 * HOUR_MS;

/**
 * One definition per bucket, whichever service creates it first (an existing
 * bucket is opened as it is).
 */
const BUCKET_OPTIONS: Record<string, Partial<KvOptions>> = {
  // Task records, kept 30 days after their last change (a few revisions, for diagnosis).
  [Buckets.tasks]: { history: 5, ttl: TASK_RETENTION_MS },
  // "<tenant>.<task_id>" -> empty: lists a tenant's tasks without reading every record.
  [Buckets.taskIndex]: { ttl: TASK_RETENTION_MS },
  // Heartbeats every few seconds; a silent worker drops out after 30 s.
  [Buckets.workers]: { ttl: 30_000 },
  [Buckets.scheduler]: {},
  [Buckets.queueStats]: { ttl: 24 * HOUR_MS },
  [Buckets.deadLetters]: { ttl: 30 * 24 * HOUR_MS },
  [Buckets.resultCache]: { ttl: 24 * HOUR_MS },
  // Billing audit: kept for 400 days (a year of invoices and their disputes).
  [Buckets.usage]: { ttl: 400 * 24 * HOUR_MS },
};

/** Opens a KV bucket with file storage, creating it when missing. */
export function openBucket(nc: NatsConnection, name: string, overrides: Partial<KvOptions> = {}): Promise<KV> {
  return openOrCreate(new Kvm(jetstream(nc)), name, {
    storage: "file",
    history: 1,
    ...BUCKET_OPTIONS[name],
    ...overrides,
  });
}

/**
 * Creates or opens a bucket. Two services starting together may both try to
 * create it; the loser's create fails, and its second try opens the winner's.
 */
export async function openOrCreate(kvm: Kvm, name: string, opts: Partial<KvOptions>): Promise<KV> {
  try {
    return await kvm.create(name, opts);
  } catch (err) {
    if (!/already in use|already exists/i.test(String(err))) throw err;
    return kvm.create(name, opts);
  }
}
