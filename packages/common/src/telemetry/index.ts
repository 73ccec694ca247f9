// The `@t2v/common/telemetry` entry: span helpers and attribute names. The SDK itself is `./start-telemetry`.
export { Attr, TASK_ID_HEADER } from "./attributes.js";
export { observeEach } from "./observe-each.js";
export { secondsHistogram } from "./seconds-histogram.js";
export { contextFromTraceParent, currentTraceParent, inSpan, recordFailure, tracer } from "./trace-context.js";
