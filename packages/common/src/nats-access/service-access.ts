import { API_KEYS_BUCKET, TENANTS_BUCKET } from "../api-keys/api-key-buckets.js";
import { ADMISSION_PLACES_BUCKET } from "../channels/admission-places.js";
import { ATTEMPT_CLAIMS_BUCKET } from "../channels/attempt-claims.js";
import type { ConsumerSpec, StreamSpec } from "../channels/bus/bus.js";
import { CANCEL_SUBJECT } from "../channels/cancellations.js";
import { DAILY_TASK_COUNTS_BUCKET } from "../channels/daily-task-counts.js";
import { DEAD_LETTERS_BUCKET } from "../channels/dead-letters.js";
import { DECODE_CONSUMER, DECODE_STREAM } from "../channels/decode-jobs.js";
import { ESTIMATE_PUSH_SUBJECT_PREFIX, ESTIMATE_WATCH_SUBJECT } from "../channels/estimate-pushes.js";
import { GENERATE_STREAM } from "../channels/generate-jobs.js";
import { LEADER_LEASE_BUCKET } from "../channels/leader-lease.js";
import { CHECKPOINTS_STORE, LATENTS_STORE, VIDEOS_STORE_NAME } from "../channels/media-stores.js";
import { PREVIEW_SUBJECT_PREFIX } from "../channels/previews.js";
import { ESTIMATES_SUBJECT } from "../channels/queue-estimates.js";
import { QUEUE_STATS_BUCKET } from "../channels/queue-stats.js";
import { RESULT_CACHE_BUCKET_NAME } from "../channels/result-cache.js";
import { RESULT_EXPIRY_BUCKET, RETENTION_CONSUMER } from "../channels/result-expiry.js";
import { SUBMIT_CONSUMER, SUBMIT_STREAM } from "../channels/submissions.js";
import { NOTIFY_STREAM, WEBHOOK_CONSUMER } from "../channels/task-changes.js";
import { TASK_CONTROL_SUBJECT } from "../channels/task-controls.js";
import { TASK_LISTS_BUCKET } from "../channels/task-lists.js";
import { ACTIVE_TASKS_BUCKET, TASKS_BUCKET } from "../channels/task-store.js";
import { USAGE_BUCKET } from "../channels/usage-ledger.js";
import { VIDEO_BYTES_BUCKET } from "../channels/video-bytes.js";
import { EVENTS_CONSUMER, EVENTS_STREAM } from "../channels/worker-events.js";
import { WORKERS_BUCKET } from "../channels/worker-registry.js";

export type ServiceName = "gateway" | "scheduler" | "inference" | "encoder";
export const SERVICE_NAMES: readonly ServiceName[] = ["gateway", "scheduler", "inference", "encoder"];

/** A durable consumer a service reads (and acknowledges); durable "*" stands for any (one per worker group). */
export interface ConsumerUse {
  readonly stream: StreamSpec;
  readonly durable: string;
}

/**
 * What one service does on NATS, by channel: the streams it publishes to, the
 * consumers it reads, the consumers whose backlog it only looks at, the KV
 * buckets (read and written, or only read) and object stores it opens, and the core subjects it sends on and
 * listens to. `natsPermissions` turns this into the subjects the server lets
 * that service's user publish and subscribe to; nothing else is allowed.
 */
export interface ServiceAccess {
  readonly publishes: readonly StreamSpec[];
  readonly consumes: readonly ConsumerUse[];
  readonly watchesBacklog: readonly ConsumerUse[];
  /** KV buckets it reads and writes. */
  readonly buckets: readonly string[];
  /** KV buckets it only reads (gets, watches, lists): it may not put or delete entries. */
  readonly readsBuckets: readonly string[];
  readonly stores: readonly string[];
  /** Core subjects (a final `>` for a family, e.g. one per task) it broadcasts or sends requests to. */
  readonly sends: readonly string[];
  /** Core subjects it subscribes to or answers requests on. */
  readonly receives: readonly string[];
  /** It answers requests (publishes to the requester's `_INBOX`). */
  readonly replies: boolean;
}

const consumer = (c: ConsumerSpec): ConsumerUse => ({ stream: c.stream, durable: c.durable });
/** Every worker group's consumer of the generate stream (`inference-<group>`). */
const anyGenerateConsumer: ConsumerUse = { stream: GENERATE_STREAM, durable: "*" };
const previews = `${PREVIEW_SUBJECT_PREFIX}.>`;
/** Every gateway's push subject: the gateways share one NATS user, so one gateway may hear another's. */
const estimatePushes = `${ESTIMATE_PUSH_SUBJECT_PREFIX}.*`;

/**
 * The gateway's own buckets are declared in services/gateway/src/adapters (idempotency keys, the download
 * signing secret, disabled webhooks); a test there checks that these names are theirs.
 */
export const GATEWAY_OWN_BUCKETS = ["t2v_idempotency", "t2v_gateway_secrets", "t2v_webhook_disabled"] as const;

/** The four services' needs, read from their app.ts and use cases (see each service's README, "NATS"). */
export const SERVICE_ACCESS: Readonly<Record<ServiceName, ServiceAccess>> = {
  // Takes tasks in (submissions), answers reads from the task records, watches, previews, queue
  // stats and pushed queue estimates (registering what it watches), sends cancel and pause/resume/priority controls, delivers webhooks from task changes.
  gateway: {
    publishes: [SUBMIT_STREAM, NOTIFY_STREAM],
    consumes: [consumer(WEBHOOK_CONSUMER)],
    watchesBacklog: [],
    buckets: [
      TASKS_BUCKET.name,
      TASK_LISTS_BUCKET.name,
      ACTIVE_TASKS_BUCKET.name,
      DAILY_TASK_COUNTS_BUCKET.name,
      ADMISSION_PLACES_BUCKET.name,
      // Read at admission; taken back when DeleteTask removes a result.
      VIDEO_BYTES_BUCKET.name,
      QUEUE_STATS_BUCKET.name,
      API_KEYS_BUCKET.name,
      TENANTS_BUCKET.name,
      ...GATEWAY_OWN_BUCKETS,
    ],
    readsBuckets: [],
    stores: [LATENTS_STORE.name, VIDEOS_STORE_NAME],
    sends: [CANCEL_SUBJECT, TASK_CONTROL_SUBJECT, ESTIMATES_SUBJECT, ESTIMATE_WATCH_SUBJECT],
    receives: [previews, estimatePushes],
    replies: false,
  },
  // Reads submissions and worker events, dispatches generate jobs, owns the task records, the leader
  // lease, usage, dead letters, result cache and retention; answers queue estimates,
  // hears the gateways' watched sets and (leading) pushes their estimates.
  scheduler: {
    publishes: [GENERATE_STREAM, NOTIFY_STREAM],
    consumes: [consumer(SUBMIT_CONSUMER), consumer(EVENTS_CONSUMER), consumer(RETENTION_CONSUMER)],
    watchesBacklog: [anyGenerateConsumer],
    buckets: [
      TASKS_BUCKET.name,
      TASK_LISTS_BUCKET.name,
      ACTIVE_TASKS_BUCKET.name,
      LEADER_LEASE_BUCKET.name,
      RESULT_CACHE_BUCKET_NAME,
      RESULT_EXPIRY_BUCKET.name,
      QUEUE_STATS_BUCKET.name,
      USAGE_BUCKET.name,
      // Counted when a completed task is settled, taken back when its result expires.
      VIDEO_BYTES_BUCKET.name,
      DEAD_LETTERS_BUCKET.name,
      WORKERS_BUCKET.name,
    ],
    readsBuckets: [],
    stores: [LATENTS_STORE.name, VIDEOS_STORE_NAME, CHECKPOINTS_STORE.name],
    sends: [CANCEL_SUBJECT, TASK_CONTROL_SUBJECT, estimatePushes],
    receives: [CANCEL_SUBJECT, TASK_CONTROL_SUBJECT, ESTIMATES_SUBJECT, ESTIMATE_WATCH_SUBJECT],
    replies: true,
  },
  // Denoises generate jobs into latents, checkpoints as it goes, sends previews, hands decode jobs on.
  inference: {
    publishes: [DECODE_STREAM, EVENTS_STREAM],
    consumes: [anyGenerateConsumer],
    watchesBacklog: [],
    // Task records are the scheduler's to write: a worker reads whether its task is still on.
    buckets: [ATTEMPT_CLAIMS_BUCKET.name, WORKERS_BUCKET.name],
    readsBuckets: [TASKS_BUCKET.name],
    stores: [LATENTS_STORE.name, VIDEOS_STORE_NAME, CHECKPOINTS_STORE.name],
    sends: [previews],
    receives: [CANCEL_SUBJECT, TASK_CONTROL_SUBJECT],
    replies: false,
  },
  // Decodes latents into MP4s and posters.
  encoder: {
    publishes: [EVENTS_STREAM],
    consumes: [consumer(DECODE_CONSUMER)],
    watchesBacklog: [],
    buckets: [ATTEMPT_CLAIMS_BUCKET.name],
    readsBuckets: [TASKS_BUCKET.name],
    stores: [LATENTS_STORE.name, VIDEOS_STORE_NAME],
    sends: [],
    receives: [],
    replies: false,
  },
};
