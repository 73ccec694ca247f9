import type { Meter } from "@opentelemetry/api";

/** A histogram of durations in seconds with explicit bucket bounds (the SDK's defaults suit milliseconds). */
export function secondsHistogram(meter: Meter, name: string, description: string, buckets: number[]) {
  return meter.createHistogram(name, { description, unit: "s", advice: { explicitBucketBoundaries: buckets } });
}
