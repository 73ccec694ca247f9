export { bearerAuth } from "./bearer-auth.js";
export { type DownloadOptions, download } from "./download.js";
export { type FieldViolation, fieldViolations } from "./field-violations.js";
export { callTaskMethod, type OptionalMethodName, supportsMethod } from "./optional-methods.js";
export { type CreateTaskInput, createT2vClient, type ListTasksInput, type T2vClient } from "./t2v-client.js";
export { formatEta, remainingSeconds } from "./task-eta.js";
export { isTerminal, statusName } from "./task-status.js";
export { type WaitOptions, waitForCompletion } from "./wait-for-completion.js";
export { type WatchOptions, watchTask } from "./watch-task.js";
