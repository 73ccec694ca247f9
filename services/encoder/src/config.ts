import { type ConfigOf, commonFields, int, list, oneOf, str } from "@t2v/common/config";
import { resultStoreFields } from "@t2v/common/s3-store";

export const encoderConfig = {
  ...commonFields,
  modelDir: str("MODEL_DIR", "model package folder (its VAE decoder is used here)"),
  executionProviders: list(
    "EXECUTION_PROVIDERS",
    "onnxruntime providers to try, in order",
    ["cuda", "cpu"],
    ["cuda", "cpu"],
  ),
  intraOpThreads: int("INTRA_OP_THREADS", "onnxruntime threads (0 = one per core)", 0, 0, 256),
  ffmpegPath: str("FFMPEG_PATH", "ffmpeg binary with libx264", "ffmpeg"),
  x264Preset: oneOf("X264_PRESET", "libx264 speed/size trade-off", "veryfast", [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
  ]),
  x264Crf: int("X264_CRF", "libx264 constant rate factor (lower is better)", 23, 0, 51),
  x264Threads: int("X264_THREADS", "libx264 threads (0 = about 1.5 per core)", 0, 0, 64),
  workerId: str("WORKER_ID", "name in logs (default: host name and pid)", ""),
  videoTtlHours: int("VIDEO_TTL_HOURS", "how long finished videos are kept", 168, 1, 24 * 365),
  ...resultStoreFields,
};

export type EncoderConfig = ConfigOf<typeof encoderConfig>;
