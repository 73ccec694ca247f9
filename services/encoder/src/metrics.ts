import { metrics } from "@opentelemetry/api";
import { secondsHistogram } from "@t2v/common/telemetry";

const SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

/** Created after telemetry starts (a meter taken earlier would be a no-op). */
export function createEncoderMetrics() {
  const meter = metrics.getMeter("t2v-encoder");
  const histogram = (name: string, description: string) => secondsHistogram(meter, name, description, SECONDS_BUCKETS);
  return {
    decode: histogram("t2v_vae_decode_seconds", "VAE decode of one clip (overlaps H.264 encoding)"),
    encode: histogram("t2v_h264_encode_seconds", "H.264 encoding left after the last frame was decoded"),
    videoBytes: meter.createHistogram("t2v_video_bytes", {
      description: "Size of finished MP4 files",
      unit: "By",
      advice: { explicitBucketBoundaries: [1e5, 3e5, 1e6, 3e6, 1e7, 3e7] },
    }),
    failures: meter.createCounter("t2v_encode_failures_total", {
      description: "Decode or encode attempts that failed",
    }),
  };
}

export type EncoderMetrics = ReturnType<typeof createEncoderMetrics>;
