import { hostname } from "node:os";
import { ESTIMATE_PUSH_INTERVAL_MS } from "@t2v/common/channels";
import { bool, type ConfigCheck, type ConfigOf, commonFields, int, str } from "@t2v/common/config";
import { resultStoreFields } from "@t2v/common/s3-store";

export const schedulerConfig = {
  ...commonFields,
  maxAttempts: int("MAX_ATTEMPTS", "tries per task before it fails", 3, 1, 20),
  retryBaseDelayMs: int("RETRY_BASE_DELAY_MS", "first retry's backoff ceiling", 2_000, 0, 3_600_000),
  retryMaxDelayMs: int("RETRY_MAX_DELAY_MS", "largest retry backoff", 60_000, 0, 86_400_000),
  videoTtlHours: int("VIDEO_TTL_HOURS", "how long finished videos are kept", 168, 1, 24 * 365),
  taskRecordRetentionDays: int(
    "TASK_RECORD_RETENTION_DAYS",
    "how long task records (and the tenant index) are kept after their last change; at least 30 (the longest `retention` a request may ask) and VIDEO_TTL_HOURS; applied to the buckets at start-up",
    30,
    30,
    3650,
  ),
  // The result cache checks a cached video in the store the encoder wrote it to.
  ...resultStoreFields,
  modelId: str(
    "MODEL_ID",
    "model name and version in result-cache keys; change it when the model changes",
    "wan-tiny@1",
  ),
  cacheTtlHours: int(
    "RESULT_CACHE_TTL_HOURS",
    "how long identical seeded requests are served from cache",
    24,
    1,
    24 * 365,
  ),
  batchPromoteAfterMs: int(
    "BATCH_PROMOTE_AFTER_MS",
    "batch tasks waiting longer compete with standard ones",
    600_000,
    0,
    86_400_000,
  ),
  prefetch: int("DISPATCH_PREFETCH", "jobs waiting per worker group beyond one per worker", 1, 0, 100),
  preemption: bool(
    "PREEMPTION",
    "a higher-tier task waiting for a busy worker group makes its lowest-tier running task yield at a step boundary",
    true,
  ),
  preemptMinRunSeconds: int(
    "PREEMPT_MIN_RUN_SECONDS",
    "an attempt runs at least this long before it may be preempted (the quantum that prevents thrash)",
    30,
    0,
    86_400,
  ),
  stallTimeoutMs: int(
    "STALL_TIMEOUT_MS",
    "a running task with no progress this long is retried",
    300_000,
    1_000,
    86_400_000,
  ),
  dispatchTimeoutMs: int(
    "DISPATCH_TIMEOUT_MS",
    "a dispatched task not started this long is retried",
    1_800_000,
    1_000,
    86_400_000,
  ),
  reconcileIntervalMs: int(
    "RECONCILE_INTERVAL_MS",
    "how often stalled and overdue tasks are looked for",
    5_000,
    100,
    3_600_000,
  ),
  sweepIntervalMs: int(
    "SWEEP_INTERVAL_MS",
    "how often the active tasks are checked for a lost submission or an unsettled end",
    60_000,
    100,
    86_400_000,
  ),
  defaultRunSeconds: int("DEFAULT_RUN_SECONDS", "run time assumed for ETAs until one is measured", 60, 1, 86_400),
  queueEstimateIntervalMs: int(
    "QUEUE_ESTIMATE_INTERVAL_MS",
    "how often the leader pushes each gateway the queue positions and ETAs of its watched queued tasks that moved (new ones go at once)",
    ESTIMATE_PUSH_INTERVAL_MS,
    100,
    60_000,
  ),
  leaseMs: int(
    "LEADER_LEASE_MS",
    "leader lease; a standby takes over this long after the leader dies (renewed 4 times per lease)",
    5_000,
    1_000,
    600_000,
  ),
  workerFreshMs: int("WORKER_FRESH_MS", "a worker whose heartbeat is older is not counted", 15_000, 1_000, 600_000),
  replicaId: str("REPLICA_ID", "name of this replica in the leader lease (default host-pid)", ""),
};

export type SchedulerConfig = ConfigOf<typeof schedulerConfig>;

/** A video kept longer than its task record could never be listed, expired by the sweep or deleted. */
export const checkSchedulerConfig: ConfigCheck<typeof schedulerConfig> = (c) =>
  c.taskRecordRetentionDays * 24 < c.videoTtlHours
    ? [
        `TASK_RECORD_RETENTION_DAYS: ${c.taskRecordRetentionDays} days is shorter than VIDEO_TTL_HOURS (${c.videoTtlHours} hours); set it to at least ${Math.ceil(c.videoTtlHours / 24)}`,
      ]
    : [];

/** This replica's name in the leader lease, logs and its NATS connection: REPLICA_ID, else host-pid. */
export function replicaIdOf(config: SchedulerConfig): string {
  return config.replicaId || `${hostname()}-${process.pid}`;
}
