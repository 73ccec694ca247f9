import { startTelemetry } from "@t2v/common/telemetry/start";

/** Imported first by main.ts, so tracing and metrics exist before any other module runs. */
export const telemetry = startTelemetry("inference");
