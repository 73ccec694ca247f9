// The `@t2v/common/task` entry: pure rules about tasks (no I/O).
export { isTaskId, newTaskId, taskIdTime } from "./ids.js";
export { type RetentionPolicy, resultExpireUnix, retentionPolicyOf, retentionSeconds } from "./retention.js";
export { afterYield, attemptsSpent, endTask, patchRecord } from "./task-record.js";
export { isTerminal, statusName } from "./task-status.js";
export { isTier, TIERS, type Tier, workerGroup } from "./tiers.js";
export { usageFor, usageKey } from "./usage.js";
