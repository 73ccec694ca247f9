import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { Buckets } from "./topology.js";

const HOUR_MS = 3_600_000;

/**
 * One definition per bucket, whichever service creates it first (an existing
 * bucket is opened as it is).
 */
const BUCKET_OPTIONS: Record<string, Partial<KvOptions>> = {
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
  return new Kvm(jetstream(nc)).create(name, { storage: "file", history: 1, ...BUCKET_OPTIONS[name], ...overrides });
}
