import { metrics } from "@opentelemetry/api";
import { secondsHistogram } from "@t2v/common/telemetry";

const SECONDS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200];
const WINDOW_MS = 60_000;
// 1 MiB to 256 MiB: wan-tiny 480p 5 s is 3 MiB, Wan2.2 720p 5 s 18.5 MiB.
const CHECKPOINT_BYTE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256].map((mib) => mib * 2 ** 20);

/**
 * The inference worker's metrics. Created after telemetry starts (a meter
 * taken earlier would be a no-op).
 */
export function createInferenceMetrics(provider: string) {
  const meter = metrics.getMeter("t2v-inference");
  const histogram = (name: string, description: string) => secondsHistogram(meter, name, description, SECONDS_BUCKETS);
  meter
    .createObservableGauge("t2v_execution_provider", { description: "1 for the onnxruntime provider in use" })
    .addCallback((o) => o.observe(1, { provider }));

  // Busy time in the last minute, from task start/end marks.
  let busySince: number | undefined;
  const spans: [number, number][] = [];
  const busyRatio = (now: number): number => {
    const from = now - WINDOW_MS;
    while (spans.length > 0 && (spans[0]?.[1] ?? 0) < from) spans.shift();
    let busy = spans.reduce((n, [a, b]) => n + (b - Math.max(a, from)), 0);
    if (busySince !== undefined) busy += now - Math.max(busySince, from);
    return Math.min(1, busy / WINDOW_MS);
  };
  meter
    .createObservableGauge("t2v_worker_busy_ratio", { description: "Share of the last minute spent denoising" })
    .addCallback((o) => o.observe(busyRatio(Date.now())));

  return {
    denoise: histogram("t2v_denoise_seconds", "Denoising of one task (text encoding and every step)"),
    step: histogram("t2v_denoise_step_seconds", "One denoising step (both guidance passes)"),
    checkpointWrite: histogram("t2v_checkpoint_write_seconds", "Encoding and storing one denoising checkpoint"),
    checkpointRead: histogram("t2v_checkpoint_read_seconds", "Reading a task's checkpoint before its denoise"),
    checkpointBytes: meter.createHistogram("t2v_checkpoint_bytes", {
      description: "Size of one denoising checkpoint as stored",
      unit: "By",
      advice: { explicitBucketBoundaries: CHECKPOINT_BYTE_BUCKETS },
    }),
    checkpointWriteFailures: meter.createCounter("t2v_checkpoint_write_failures_total", {
      description: "Checkpoint writes that failed (the next one supersedes them)",
    }),
    resumedSteps: meter.createCounter("t2v_checkpoint_resumed_steps_total", {
      description: "Denoising steps a resumed run did not have to run again",
    }),
    yields: meter.createCounter("t2v_denoise_yields_total", {
      description: "Denoises stopped at a step boundary with a checkpoint, by reason (pause, preempt)",
    }),
    busy(isBusy: boolean, now = Date.now()): void {
      if (isBusy && busySince === undefined) busySince = now;
      if (!isBusy && busySince !== undefined) {
        spans.push([busySince, now]);
        busySince = undefined;
      }
    },
  };
}

export type InferenceMetrics = ReturnType<typeof createInferenceMetrics>;
