/** Span and metric attribute names of our own, in one place. */
export const Attr = {
  taskId: "t2v.task_id",
  tenantId: "t2v.tenant_id",
  attempt: "t2v.attempt",
  pool: "t2v.pool",
  group: "t2v.worker_group",
  status: "t2v.status",
  stage: "t2v.stage",
  provider: "t2v.execution_provider",
  cacheHit: "t2v.cache_hit",
  step: "t2v.step",
  frames: "t2v.frames",
  resolution: "t2v.resolution",
  tier: "t2v.tier",
  object: "t2v.object",
  expert: "t2v.expert",
  stepSeconds: "t2v.step_seconds",
  reconcileAction: "t2v.reconcile.action",
} as const;

/** NATS header that carries the task id beside W3C traceparent. */
export const TASK_ID_HEADER = "T2v-Task-Id";
