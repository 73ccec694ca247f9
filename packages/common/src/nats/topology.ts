import type { ConsumerConfig, JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";

/** Every stream, subject, consumer, bucket and object store of the mesh, in one place. */
export const Streams = {
  submit: "T2V_SUBMIT",
  generate: "T2V_GENERATE",
  decode: "T2V_DECODE",
  events: "T2V_EVENTS",
  /** Task state changes (TaskRecord payloads), for webhooks and other listeners. */
  notify: "T2V_NOTIFY",
} as const;

export const Subjects = {
  /** t2v.submit.<pool>: gateway -> scheduler. */
  submit: (pool: string) => `t2v.submit.${pool}`,
  /** t2v.job.generate.<group>: scheduler -> the inference workers of one group. */
  generate: (group: string) => `t2v.job.generate.${group}`,
  /** inference -> encoder. */
  decode: "t2v.job.decode",
  /** t2v.event.<task_id>: workers -> scheduler. */
  event: (taskId: string) => `t2v.event.${taskId}`,
  /** Core NATS broadcast (not JetStream): running workers stop the task. */
  cancel: "t2v.control.cancel",
  /** t2v.notify.<task_id>: a TaskRecord after each status change (not after progress steps). */
  notify: (taskId: string) => `t2v.notify.${taskId}`,
  /** Core NATS request/reply: QueueEstimatesRequest -> QueueEstimatesResponse. */
  estimates: "t2v.scheduler.estimates",
} as const;

export const Consumers = {
  schedulerSubmit: "scheduler-submit",
  schedulerEvents: "scheduler-events",
  inference: (group: string) => `inference-${group}`,
  encoder: "encoder",
  webhooks: "webhooks",
} as const;

export const Buckets = {
  tasks: "t2v_tasks",
  latents: "t2v_latents",
  videos: "t2v_videos",
  /** "<tenant>.<task_id>" -> empty: each tenant's tasks, for ListTasks. */
  taskIndex: "t2v_task_index",
  /** Tenant id -> TenantQueueStats, written by the scheduler. */
  queueStats: "t2v_queue_stats",
  /** Worker id -> WorkerHeartbeat; entries expire when a worker stops writing. */
  workers: "t2v_workers",
  /** The scheduler's leader lease. */
  scheduler: "t2v_scheduler",
  deadLetters: "t2v_dead_letters",
  resultCache: "t2v_result_cache",
  /** "<tenant>.<yyyymmdd>.<task_id>" -> UsageRecord, one per completed task. */
  usage: "t2v_usage",
} as const;

/** Pools in priority order: a worker serving several takes VIP work first. */
export const POOLS = ["vip", "standard", "batch"] as const;
export type Pool = (typeof POOLS)[number];

/** Workers serving the same pools form a group and share one consumer. */
export function workerGroup(pools: readonly string[]): string {
  return POOLS.filter((p) => pools.includes(p)).join("-");
}

const DAY_NS = nanos(24 * 3600 * 1000);

/** How long JetStream remembers message ids to drop duplicate publishes. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

function workQueue(name: string, subjects: string[]): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: 7 * DAY_NS,
    // Publishes carry Nats-Msg-Id; a retried publish inside this window is dropped.
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
}

/** Pull consumers; ack_wait is short because long work heartbeats with working(). */
function pull(name: string, filter: string, ackWaitMs: number, maxDeliver: number): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    filter_subject: filter,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_deliver: maxDeliver,
    max_ack_pending: 1000,
  };
}

/** Creates (idempotently) the streams and consumers the mesh needs. */
export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  const streams: (Partial<StreamConfig> & { name: string })[] = [
    workQueue(Streams.submit, ["t2v.submit.>"]),
    workQueue(Streams.generate, ["t2v.job.generate.>"]),
    workQueue(Streams.decode, [Subjects.decode]),
    workQueue(Streams.events, ["t2v.event.>"]),
    // Limits retention: several kinds of listener may each keep their own consumer.
    { ...workQueue(Streams.notify, ["t2v.notify.>"]), retention: RetentionPolicy.Limits, max_age: 3 * DAY_NS },
  ];
  for (const cfg of streams) {
    try {
      await jsm.streams.info(cfg.name);
    } catch {
      await addIgnoringRace(() => jsm.streams.add(cfg));
    }
  }
  const consumers: [string, Partial<ConsumerConfig>][] = [
    [Streams.submit, pull(Consumers.schedulerSubmit, "t2v.submit.>", 30_000, -1)],
    [Streams.events, pull(Consumers.schedulerEvents, "t2v.event.>", 30_000, -1)],
    [Streams.decode, pull(Consumers.encoder, Subjects.decode, 60_000, 5)],
    [Streams.notify, pull(Consumers.webhooks, "t2v.notify.>", 30_000, -1)],
  ];
  for (const [stream, cfg] of consumers) {
    try {
      await jsm.consumers.info(stream, cfg.durable_name ?? "");
    } catch {
      await addIgnoringRace(() => jsm.consumers.add(stream, cfg));
    }
  }
}

/** The consumer a worker group pulls GenerateJobs from; created by the group's workers. */
export async function ensureInferenceConsumer(jsm: JetStreamManager, group: string): Promise<void> {
  const name = Consumers.inference(group);
  try {
    await jsm.consumers.info(Streams.generate, name);
  } catch {
    await addIgnoringRace(() => jsm.consumers.add(Streams.generate, pull(name, Subjects.generate(group), 60_000, 5)));
  }
}

/** Two services starting together may both try to create; the loser's error is harmless. */
async function addIgnoringRace(add: () => Promise<unknown>): Promise<void> {
  try {
    await add();
  } catch (err) {
    if (!/already in use|already exists/i.test(String(err))) throw err;
  }
}
