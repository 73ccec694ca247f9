// The `@t2v/common/channels` entry: the mesh's messages and stores, and the buses they run on.

export {
  ADMISSION_PLACES_BUCKET,
  type AdmissionPlaces,
  admissionPlaces,
  PLACES_STALE_MS,
  type PlacesWrite,
} from "./admission-places.js";
export {
  ATTEMPT_CLAIMS_BUCKET,
  type AttemptClaims,
  attemptClaimKey,
  attemptClaims,
  type ClaimResult,
  claimHolder,
  type HeldClaim,
  mayTakeOver,
} from "./attempt-claims.js";
export type {
  BlobInfo,
  BlobRange,
  BlobStore,
  BlobStoreSpec,
  BucketSpec,
  Bus,
  ConsumerSpec,
  KvBucket,
  KvChange,
  KvEntry,
  StreamSpec,
  Unsubscribe,
} from "./bus/bus.js";
export { createMemoryBus, type MemoryBus, type MemoryBusOptions } from "./bus/memory-bus.js";
export { createNatsBus, type NatsBusOptions } from "./bus/nats-bus.js";
export { connectNats, natsAuth, natsServers, watchConnection } from "./bus/nats-connect.js";
export { CLUSTERED_CAS_FIXED_IN, lacksClusteredCas } from "./bus/nats-server-defects.js";
export { createOutageBus, type OutageBus } from "./bus/outage-bus.js";
export { openToolBus } from "./bus/tool-bus.js";
export { CANCEL_SUBJECT, type Cancellations } from "./cancellations.js";
export { type Channels, type ChannelsOptions, channels } from "./channels.js";
export { type ConsumeOptions, consumeEach, handleOne } from "./consume-each.js";
export {
  DAILY_TASK_COUNTS_BUCKET,
  type DailyTake,
  type DailyTaskCounts,
  dailyTaskCounts,
  dailyTaskKey,
} from "./daily-task-counts.js";
export type { DeadLetters } from "./dead-letters.js";
export { DECODE_CONSUMER, type DecodeJobs } from "./decode-jobs.js";
export { type Delivery, type Inbox, keepAliveEveryMs } from "./delivery.js";
export { DAY_MS, DUPLICATE_WINDOW_MS, HOUR_MS, SECOND_MS } from "./durations.js";
export {
  ESTIMATE_PUSH_INTERVAL_MS,
  ESTIMATE_PUSH_SUBJECT_PREFIX,
  ESTIMATE_WATCH_SUBJECT,
  type EstimatePushes,
  estimatePushSubject,
  isGatewayId,
  MAX_PUSH_ESTIMATES,
  MAX_WATCH_IDS_PER_PART,
  MAX_WATCH_PARTS,
  WATCH_EXPIRY_MS,
  WATCH_HEARTBEAT_MS,
  type WatchPart,
} from "./estimate-pushes.js";
export { GENERATE_STREAM, type GenerateJobs, generateConsumer } from "./generate-jobs.js";
export { type KeyedBatch, keyedBatch } from "./keyed-batch.js";
export { type KeyedSerial, keyedSerial } from "./keyed-serial.js";
export { createKvCache, type KvCache, type KvCacheOptions } from "./kv-cache.js";
export { lazy } from "./lazy.js";
export { type LeaderLease, leaderLease } from "./leader-lease.js";
export {
  CHECKPOINTS_STORE,
  checkpointObjectName,
  LATENTS_STORE,
  latentObjectName,
  latentObjectNames,
  type MediaStoreLimits,
  type MediaStores,
  mediaStoreLimits,
  openMediaStores,
  posterObjectName,
  videoObjectName,
} from "./media-stores.js";
export { MAX_PREVIEW_BYTES, PREVIEW_SUBJECT_PREFIX, type Previews, previewSubject } from "./previews.js";
export { MAX_ESTIMATE_IDS, type QueueEstimates } from "./queue-estimates.js";
export type { QueueStats } from "./queue-stats.js";
export { type ResultCache, resultCache } from "./result-cache.js";
export {
  type DueResult,
  expiryHour,
  RESULT_EXPIRY_BUCKET,
  RETENTION_CONSUMER,
  type ResultExpiry,
  resultExpiry,
} from "./result-expiry.js";
export {
  type Attempt,
  type AttemptEnd,
  type AttemptJob,
  type AttemptOptions,
  AttemptSupersededError,
  runAttempt,
  type SkipReason,
} from "./run-attempt.js";
export { SUBMIT_CONSUMER, type Submissions } from "./submissions.js";
export { type TaskChanges, taskChangeId, WEBHOOK_CONSUMER } from "./task-changes.js";
export {
  TASK_CONTROL_SUBJECT,
  type TaskControlKind,
  type TaskControlMessage,
  type TaskControls,
} from "./task-controls.js";
export { dayOf, TASK_LIST_RETENTION_DAYS, TASK_LISTS_BUCKET, type TaskListCursor } from "./task-lists.js";
export {
  ACTIVE_TASKS_BUCKET,
  DEFAULT_TASK_RECORD_RETENTION_MS,
  type ReplaceOptions,
  type StoredTask,
  TASKS_BUCKET,
  type TaskPage,
  type TaskPageQuery,
  type TaskStore,
  type TaskStoreOptions,
} from "./task-store.js";
export type { UsageLedger } from "./usage-ledger.js";
export { VIDEO_BYTES_BUCKET, VIDEO_BYTES_MAX_PAST_DAYS, type VideoBytes, videoBytes } from "./video-bytes.js";
export { EVENTS_CONSUMER, type PublishWorkerEvent, type WorkerEventBody, type WorkerEvents } from "./worker-events.js";
export { HEARTBEAT_EVERY_MS, type HeartbeatInfo, type WorkerGroup, type WorkerRegistry } from "./worker-registry.js";
