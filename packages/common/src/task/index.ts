// The `@t2v/common/task` entry: pure rules about tasks (no I/O).
export { isTaskId, newTaskId, taskIdTime } from "./ids.js";
export {
  longestRetentionSeconds,
  MAX_REQUEST_RETENTION_SECONDS,
  type RetentionPolicy,
  resultExpireUnix,
  retentionPolicyOf,
  retentionSeconds,
} from "./retention.js";
export { storedResultBytes } from "./stored-result-bytes.js";
export { afterYield, attemptsSpent, endTask, patchRecord } from "./task-record.js";
export { isTerminal, statusName } from "./task-status.js";
export { isTier, TIERS, type Tier, workerGroup } from "./tiers.js";
export { usageFor, usageKey } from "./usage.js";
