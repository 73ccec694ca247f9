import type { TaskRecord } from "../gen/t2v/internal/v1/task_record_pb.js";
import { isTerminal } from "./task-status.js";

export interface RetentionPolicy {
  /** For requests that name no retention (VIDEO_TTL_HOURS). */
  readonly defaultSeconds: number;
  /**
   * What the store keeps at most: JetStream's videos bucket drops objects after VIDEO_TTL_HOURS whatever
   * a request asked, so the expire time says so; unbounded on S3 (its lifecycle rule must allow it).
   */
  readonly maxSeconds: number;
}

/** The longest retention a request may ask for: the contract's bound on CreateTaskRequest.retention (30 days). */
export const MAX_REQUEST_RETENTION_SECONDS = 30 * 86_400;

/** The longest any finished task's result is kept under `policy`: what a request may ask, within the store's. */
export function longestRetentionSeconds(policy: RetentionPolicy): number {
  return Math.min(Math.max(policy.defaultSeconds, MAX_REQUEST_RETENTION_SECONDS), policy.maxSeconds);
}

/** Seconds a finished task's result is kept: the request's retention, else the default; within the store's. */
export function retentionSeconds(record: TaskRecord, policy: RetentionPolicy): number {
  const r = record.request?.retention;
  return Math.min(r ? Number(r.seconds) : policy.defaultSeconds, policy.maxSeconds);
}

/** When a finished task's result goes (unix seconds): finish time + retention; null while it runs. */
export function resultExpireUnix(record: TaskRecord, policy: RetentionPolicy): number | null {
  const task = record.task;
  if (!task || !isTerminal(task.status)) return null;
  const finished = task.finishTime ?? task.updateTime;
  if (!finished) return null;
  return Number(finished.seconds) + retentionSeconds(record, policy);
}

/**
 * The policy every service applies: VIDEO_TTL_HOURS by default; on JetStream also at most that (its videos
 * bucket drops objects then), on S3 whatever the request asked (the bucket's lifecycle rule must allow it).
 */
export function retentionPolicyOf(videoTtlHours: number, store: "nats" | "s3"): RetentionPolicy {
  const defaultSeconds = videoTtlHours * 3600;
  return { defaultSeconds, maxSeconds: store === "nats" ? defaultSeconds : Number.POSITIVE_INFINITY };
}
